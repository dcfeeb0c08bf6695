using System.ComponentModel.DataAnnotations;
using CuratedIndex.Storage;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Tests.Storage;

/// <summary><c>Storage:*</c> validation: an S3 configuration that cannot work stops startup with one line per problem.</summary>
public sealed class StorageOptionsTests
{
    private static StorageOptions ValidS3() => new()
    {
        Provider = StorageProvider.S3,
        S3 = new S3StorageOptions { ServiceUrl = "http://minio:9000", Bucket = "curated-index", AccessKey = "key", SecretKey = "secret" },
    };

    private static List<string> Problems(StorageOptions options) =>
        [.. options.Validate(new ValidationContext(options)).Select(r => r.ErrorMessage!)];

    [Fact]
    public void S3_Complete_HasNoProblems()
    {
        Assert.Empty(Problems(ValidS3()));
        var https = ValidS3();
        https.S3.ServiceUrl = "https://s3.example.org/";
        https.S3.Bucket = "a.b-c.d1";
        https.S3.PresignedRedirect = true;
        https.S3.PresignedExpiry = TimeSpan.FromDays(7);
        Assert.Empty(Problems(https));
    }

    [Fact]
    public void S3_Nothing_NamesEveryRequiredKey()
    {
        var problems = Problems(new StorageOptions { Provider = StorageProvider.S3 });

        Assert.Equal(
            [
                "Storage:S3:ServiceUrl is required for Storage:Provider S3 (e.g. http://minio:9000).",
                "Storage:S3:Bucket is required for Storage:Provider S3.",
                "Storage:S3:AccessKey is required for Storage:Provider S3.",
                "Storage:S3:SecretKey is required for Storage:Provider S3.",
            ],
            problems);
    }

    [Theory]
    [InlineData("minio:9000")]
    [InlineData("ftp://minio:9000")]
    [InlineData("http://minio:9000/bucket")]
    [InlineData("http://minio:9000/?x=1")]
    [InlineData("http://user:pass@minio:9000")]
    [InlineData("/relative")]
    public void S3_ServiceUrlNotABaseUrl_IsRefused(string url)
    {
        var options = ValidS3();
        options.S3.ServiceUrl = url;

        var problem = Assert.Single(Problems(options));

        Assert.Equal($"Storage:S3:ServiceUrl must be an absolute http or https URL with only a scheme, host and port, such as http://minio:9000 (got '{url}').", problem);
    }

    [Theory]
    [InlineData("t1", "must be 3 to 63 characters long")]
    [InlineData("Curated", "may contain only lowercase letters, digits, '-' and '.'")]
    [InlineData("under_score", "may contain only lowercase letters, digits, '-' and '.'")]
    [InlineData("-bucket", "must start and end with a letter or a digit")]
    [InlineData("bucket.", "must start and end with a letter or a digit")]
    [InlineData("a..b", "must be DNS-style: no '..', '.-' or '-.'")]
    [InlineData("192.168.1.1", "must not be an IP address")]
    public void S3_BucketNotDnsStyle_IsRefusedWithTheRule(string bucket, string rule)
    {
        var options = ValidS3();
        options.S3.Bucket = bucket;

        Assert.Equal([$"Storage:S3:Bucket {rule} (got '{bucket}')."], Problems(options));
    }

    [Fact]
    public void S3_PresignedExpiryOutOfRange_AndABadRegion_AreRefused()
    {
        var options = ValidS3();
        options.S3.PresignedExpiry = TimeSpan.FromDays(8);
        options.S3.Region = "US East";

        Assert.Equal(
            [
                "Storage:S3:Region must be a region name such as us-east-1 (got 'US East').",
                "Storage:S3:PresignedExpiry must be between 00:00:01 and 7.00:00:00 (got 8.00:00:00).",
            ],
            Problems(options));
    }

    [Fact]
    public void PresignedRedirect_WithTheFileSystemProvider_IsRefused()
    {
        var options = new StorageOptions { S3 = new S3StorageOptions { PresignedRedirect = true } };

        Assert.Equal(["Storage:S3:PresignedRedirect needs Storage:Provider S3."], Problems(options));
    }

    [Fact]
    public async Task S3_InvalidSettings_StopStartupWithTheReasons()
    {
        await using var upstream = await FakePyPI.StartAsync();

        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => ProxyInstance.StartAsync(upstream.BaseUrl, settings: new Dictionary<string, string>
        {
            ["Storage:Provider"] = "S3",
            ["Storage:S3:ServiceUrl"] = "minio:9000",
            ["Storage:S3:Bucket"] = "t1",
        }));

        Assert.Contains("Storage:S3:ServiceUrl must be an absolute http or https URL", e.Message, StringComparison.Ordinal);
        Assert.Contains("Storage:S3:Bucket must be 3 to 63 characters long (got 't1')", e.Message, StringComparison.Ordinal);
        Assert.Contains("Storage:S3:AccessKey is required", e.Message, StringComparison.Ordinal);
    }
}
