using System;
using System.IO;
using System.Linq;
using System.Text.Json;
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

    private const string Ok = "\"ok\":true";

    [Fact]
    public Task EventSourceWithFastJsonPatch_ChangesResumeAndReset_CopyEqualsServerDocument() =>
        AssertPassesAgainstSampleAsync("sse-interop.mjs", Ok);

    [Fact]
    public Task ChromiumOnSamplePage_RecordCreatedAndDeleted_PageShowsItAndEventSourceGetsAddAndRemove() =>
        AssertPassesAgainstSampleAsync("browser-interop.mjs", Ok);

    [Fact]
    public Task WsWithFastJsonPatch_ChangesResumeAndReset_CopyEqualsServerDocument() =>
        AssertPassesAgainstSampleAsync("ws-interop.mjs", Ok);

    [Fact]
    public Task ChromiumWebSocket_HandshakeLargeFrameAndClose_EveryEventIntactInOrder() =>
        AssertPassesAgainstSampleAsync("browser-ws-interop.mjs", Ok);

    [Theory]
    [InlineData("json")]
    [InlineData("msgpack")]
    public Task SignalRClientWithFastJsonPatch_ChangesResumeAndReset_CopyEqualsServerDocument(string protocol) =>
        AssertPassesAgainstSampleAsync("signalr-interop.mjs", "documents equal", protocol);

    // The JavaScript client (clients/js, which the sample page imports) applies the stream's patches with its own
    // applier: every case passes but the one per revision whose patch repeats "op" (see the script): npm 95 - 1,
    // shared 112 - 1.
    [Fact]
    public Task JsClientJsonPatchApplier_NpmSuite_EveryCasePasses() =>
        AssertApplierPassesAsync(["npm"], 94);

    [SharedSuiteFact]
    public Task JsClientJsonPatchApplier_NpmAndSharedSuites_EveryCasePasses()
    {
        var suite = SharedSuite.Folder;
        Assert.True(Directory.Exists(suite), $"The shared conformance suite is missing at {suite}.");
        return AssertApplierPassesAsync(["npm", "shared"], 94 + 111, suite);
    }

    private static async Task AssertApplierPassesAsync(string[] expectedSources, int expectedPassed, params string[] args)
    {
        var result = await AssertPassesAsync("client-jsonpatch.mjs", Ok, args);

        // The summary is the script's first line: it names the revisions read, so a run that read fewer cannot pass.
        using var summary = JsonDocument.Parse(result.StandardOutput.Split('\n')[0]);
        var sources = summary.RootElement.GetProperty("sources").EnumerateArray().Select(static s => s.GetString()).ToArray();
        Assert.Equal(expectedSources, sources);
        Assert.Equal(expectedPassed, summary.RootElement.GetProperty("passed").GetInt32());
    }

    // Starts the sample, runs the script with its base URL (and any further arguments), and requires a clean exit.
    private static async Task AssertPassesAgainstSampleAsync(string script, string expectedOutput, params string[] args)
    {
        await using var server = await SampleServer.StartAsync();
        await AssertPassesAsync(script, expectedOutput, [server.BaseUrl, .. args]);
    }

    internal static async Task<NodeScript.Result> AssertPassesAsync(string script, string expectedOutput, params string[] args)
    {
        var result = await NodeScript.RunAsync(script, ScriptTimeout, args);

        Assert.True(result.ExitCode == 0, $"{script} {string.Join(' ', args)} failed: {result}");
        Assert.Contains(expectedOutput, result.StandardOutput, StringComparison.Ordinal);
        return result;
    }
}
