using System;
using System.Threading.Tasks;

namespace Rocket.Interop.Tests;

/// <summary>
/// The sample server (every transport registered) against JavaScript clients no one here wrote: eventsource, a real
/// Chromium, ws, and @microsoft/signalr with the JSON and MessagePack protocols. The scripts in tests/node drive them
/// and exit 0 only when everything they checked held (see the comment at the top of each script).
/// </summary>
public sealed class NodeClientTests
{
    // Each script bounds itself (30 s and 60 s); this is the backstop that kills a hung process.
    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task EventSourceWithFastJsonPatch_ChangesResumeAndReset_CopyEqualsServerDocument()
    {
        await using var server = await SampleServer.StartAsync();

        var result = await NodeScript.RunAsync("sse-interop.mjs", ScriptTimeout, server.BaseUrl);

        Assert.True(result.ExitCode == 0, $"sse-interop.mjs failed against {server.BaseUrl}: {result}");
        Assert.Contains("\"ok\":true", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChromiumOnSamplePage_RecordCreatedAndDeleted_PageShowsItAndEventSourceGetsAddAndRemove()
    {
        await using var server = await SampleServer.StartAsync();

        var result = await NodeScript.RunAsync("browser-interop.mjs", ScriptTimeout, server.BaseUrl);

        Assert.True(result.ExitCode == 0, $"browser-interop.mjs failed against {server.BaseUrl}: {result}");
        Assert.Contains("\"ok\":true", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WsWithFastJsonPatch_ChangesResumeAndReset_CopyEqualsServerDocument()
    {
        await using var server = await SampleServer.StartAsync();

        var result = await NodeScript.RunAsync("ws-interop.mjs", ScriptTimeout, server.BaseUrl);

        Assert.True(result.ExitCode == 0, $"ws-interop.mjs failed against {server.BaseUrl}: {result}");
        Assert.Contains("\"ok\":true", result.StandardOutput, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("json")]
    [InlineData("msgpack")]
    public async Task SignalRClientWithFastJsonPatch_ChangesResumeAndReset_CopyEqualsServerDocument(string protocol)
    {
        await using var server = await SampleServer.StartAsync();

        var result = await NodeScript.RunAsync("signalr-interop.mjs", ScriptTimeout, server.BaseUrl, protocol);

        Assert.True(result.ExitCode == 0, $"signalr-interop.mjs ({protocol}) failed against {server.BaseUrl}: {result}");
        Assert.Contains("documents equal", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SamplePageJsonPatchApplier_ConformanceSuites_EveryCasePasses()
    {
        // The page applies the stream's patches with its own small applier (no build step): it must be right too.
        var suite = System.IO.Path.GetFullPath(System.IO.Path.Combine(RepositoryRoot.Path, "..", "shared", "conformance", "json-patch-tests"));
        Assert.True(System.IO.Directory.Exists(suite), $"The shared conformance suite is missing at {suite}.");

        var result = await NodeScript.RunAsync("page-jsonpatch.mjs", ScriptTimeout, suite);

        Assert.True(result.ExitCode == 0, $"page-jsonpatch.mjs failed: {result}");
        Assert.Contains("\"ok\":true", result.StandardOutput, StringComparison.Ordinal);
    }
}
