using System;
using System.IO;

namespace Rocket.Transports.WebSockets.Tests;

/// <summary>The repository's root: the first folder above the test assembly that holds Rocket.sln.</summary>
internal static class RepositoryRoot
{
    private static readonly Lazy<string> Root = new(Find);

    public static string Path => Root.Value;

    private static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "Rocket.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Rocket.sln above {AppContext.BaseDirectory}: the interop tests run from a build inside the repository.");
    }
}
