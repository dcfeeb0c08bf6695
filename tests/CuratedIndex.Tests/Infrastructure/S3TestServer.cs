using CuratedIndex.Storage;
using Minio;
using Minio.DataModel.Args;

namespace CuratedIndex.Tests.Infrastructure;

/// <summary>
/// The S3 API that ./test.sh starts (moto_server on a free loopback port, named by <see cref="Variable"/>). Each test makes
/// its own bucket, so tests never see each other's objects.
/// </summary>
public static class S3TestServer
{
    public const string Variable = "CURATED_INDEX_TEST_S3";

    // moto accepts any credentials; these only have to be present and consistent.
    private const string AccessKey = "curated-index-test";
    private const string SecretKey = "curated-index-test-secret";

    public static string ServiceUrl() =>
        Environment.GetEnvironmentVariable(Variable)
        ?? throw new InvalidOperationException($"S3 tests need {Variable} (the URL of an S3 API); run ./test.sh, which starts moto_server and sets it.");

    /// <summary>Settings for a new, empty bucket of its own (DNS-style name).</summary>
    public static async Task<S3StorageOptions> CreateBucketAsync()
    {
        var options = Options($"ci-test-{Guid.NewGuid():N}");
        using var client = Client(options);
        await client.MakeBucketAsync(new MakeBucketArgs().WithBucket(options.Bucket));
        return options;
    }

    /// <summary>Settings for a bucket that does not exist.</summary>
    public static S3StorageOptions MissingBucket() => Options($"ci-missing-{Guid.NewGuid():N}");

    /// <summary>The <c>Storage:*</c> settings of a proxy that keeps its artifacts in <paramref name="options"/>' bucket.</summary>
    public static Dictionary<string, string> Settings(S3StorageOptions options) => new()
    {
        ["Storage:Provider"] = "S3",
        ["Storage:S3:ServiceUrl"] = options.ServiceUrl!,
        ["Storage:S3:Bucket"] = options.Bucket!,
        ["Storage:S3:AccessKey"] = options.AccessKey!,
        ["Storage:S3:SecretKey"] = options.SecretKey!,
    };

    /// <summary>Removes the (empty) bucket: the store goes away under a node that uses it.</summary>
    public static async Task RemoveBucketAsync(S3StorageOptions options)
    {
        using var client = Client(options);
        await client.RemoveBucketAsync(new RemoveBucketArgs().WithBucket(options.Bucket));
    }

    /// <summary>Every object in the bucket, read straight from the S3 API.</summary>
    public static async Task<List<string>> KeysAsync(S3StorageOptions options)
    {
        using var client = Client(options);
        var keys = new List<string>();
        await foreach (var item in client.ListObjectsEnumAsync(new ListObjectsArgs().WithBucket(options.Bucket).WithRecursive(true)))
        {
            keys.Add(item.Key);
        }

        return keys;
    }

    private static S3StorageOptions Options(string bucket) => new()
    {
        ServiceUrl = ServiceUrl(),
        Bucket = bucket,
        AccessKey = AccessKey,
        SecretKey = SecretKey,
    };

    private static IMinioClient Client(S3StorageOptions options)
    {
        var url = new Uri(options.ServiceUrl!);
        return new MinioClient().WithEndpoint(url.Host, url.Port).WithCredentials(options.AccessKey, options.SecretKey).WithRegion(options.Region).Build();
    }
}
