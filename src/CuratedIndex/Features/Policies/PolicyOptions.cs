using System.ComponentModel.DataAnnotations;

namespace CuratedIndex.Features.Policies;

/// <summary>Where the policy files live: every <c>*.yaml</c> under <see cref="Path"/> is read and merged.</summary>
public sealed class PolicyOptions
{
    public const string Section = "Policies";

    [Required]
    public string Path { get; set; } = "policies";
}
