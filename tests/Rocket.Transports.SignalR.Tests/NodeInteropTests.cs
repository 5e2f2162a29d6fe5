using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.Transports.SignalR.Tests;

/// <summary>
/// The real JavaScript client, <c>@microsoft/signalr</c>, with the JSON and the MessagePack hub protocols, keeps a copy
/// of the keyed document with <c>fast-json-patch</c> and must end equal to the server's (tests/node/signalr-interop.mjs).
/// </summary>
public sealed class NodeInteropTests
{
    private static readonly TimeSpan NodeTimeout = TimeSpan.FromSeconds(90);

    [Theory]
    [InlineData("json")]
    [InlineData("msgpack")]
    public async Task SignalRClient_KeepsACopyEqualToTheServers(string protocol)
    {
        var nodeDirectory = Path.Combine(FindRepositoryRoot(), "tests", "node");
        Assert.True(
            Directory.Exists(Path.Combine(nodeDirectory, "node_modules", "@microsoft", "signalr-protocol-msgpack")),
            $"{nodeDirectory}/node_modules is missing or stale: run `npm ci` in tests/node (test.sh does).");
        await using var server = await TestServer.StartAsync();

        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = nodeDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("signalr-interop.mjs");
        start.ArgumentList.Add(server.BaseAddress.ToString().TrimEnd('/'));
        start.ArgumentList.Add(protocol);
        using var node = Process.Start(start)!;
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(NodeTimeout);
        try
        {
            await node.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            node.Kill(entireProcessTree: true);
            Assert.Fail($"node did not finish in {NodeTimeout}: {await stdout}{await stderr}");
        }

        Assert.True(node.ExitCode == 0, $"node exited with {node.ExitCode}:\n{await stdout}\n{await stderr}");
        Assert.Contains("documents equal", await stdout, StringComparison.Ordinal);
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Rocket.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No folder above {AppContext.BaseDirectory} holds Rocket.sln.");
    }
}
