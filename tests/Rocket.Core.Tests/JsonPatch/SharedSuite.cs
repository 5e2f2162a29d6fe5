using System;
using System.IO;

namespace Rocket.Core.Tests.JsonPatch;

/// <summary>
/// Whether the tests that read the upstream conformance suite in <c>../shared</c> run. Only CI puts shared/ beside the
/// repository, so in a clone alone those tests are reported skipped with the reason rather than failed; CI sets
/// <see cref="RequireVariable"/> so that there they always run, and a missing folder fails them instead.
/// </summary>
internal static class SharedSuite
{
    /// <summary>The environment variable that, set to 1, forbids skipping (.ci/run sets it).</summary>
    public const string RequireVariable = "ROCKET_REQUIRE_SHARED_SUITE";

    /// <summary>Why the shared-suite tests are skipped, or null when they run.</summary>
    public static string? SkipReason { get; } = FindSkipReason();

    private static string? FindSkipReason()
    {
        if (Environment.GetEnvironmentVariable(RequireVariable) == "1")
        {
            return null;
        }

        var folder = TestFiles.SharedConformanceFolder;
        return Directory.Exists(folder)
            ? null
            : $"The upstream JSON Patch conformance suite is not at {folder}: only CI puts shared/ beside the repository " +
              $"({RequireVariable}=1 makes its absence fail).";
    }
}

/// <summary>A fact that reads the shared conformance suite: skipped with the reason when <see cref="SharedSuite"/> says so.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
internal sealed class SharedSuiteFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when the shared suite is missing and not required.</summary>
    public SharedSuiteFactAttribute() => Skip = SharedSuite.SkipReason;
}

/// <summary>
/// A theory over the shared conformance suite: skipped with the reason when <see cref="SharedSuite"/> says so (xunit then
/// reports one skipped test and does not enumerate its data).
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
internal sealed class SharedSuiteTheoryAttribute : TheoryAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when the shared suite is missing and not required.</summary>
    public SharedSuiteTheoryAttribute() => Skip = SharedSuite.SkipReason;
}
