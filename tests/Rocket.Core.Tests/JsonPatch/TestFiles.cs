using System;
using System.IO;

namespace Rocket.Core.Tests.JsonPatch;

/// <summary>Finds files the tests read, relative to the repository root, in a worktree and in CI's fresh clone alike.</summary>
internal static class TestFiles
{
    private static readonly Lazy<string> Root = new(FindRepositoryRoot);

    /// <summary>The folder that holds Rocket.sln.</summary>
    public static string RepositoryRoot => Root.Value;

    /// <summary>The upstream conformance suite copied into shared/, which CI puts beside the repository (see <see cref="SharedSuite"/>).</summary>
    public static string SharedConformanceFolder =>
        Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "conformance", "json-patch-tests"));

    /// <summary>The npm package json-patch-test-suite, installed by <c>npm ci</c> in tests/node.</summary>
    public static string NpmConformanceFolder =>
        Path.Combine(RepositoryRoot, "tests", "node", "node_modules", "json-patch-test-suite");

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Rocket.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No folder holding Rocket.sln above {AppContext.BaseDirectory}; the tests locate their data files from the repository root.");
    }
}
