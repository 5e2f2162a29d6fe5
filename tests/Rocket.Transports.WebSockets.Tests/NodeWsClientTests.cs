using System;
using System.Threading.Tasks;

namespace Rocket.Transports.WebSockets.Tests;

/// <summary>
/// Node's <c>ws</c> client with <c>fast-json-patch</c> (tests/node/ws-interop.mjs) against a real server with both
/// transports: the same scenario as the SSE interop test, over rocket.jsonpatch.v1.
/// </summary>
public sealed class NodeWsClientTests
{
    // The script bounds itself to 20 s; this is the backstop that kills a hung process.
    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task WsWithFastJsonPatch_ChangesResumeAndReset_CopyEqualsServerDocument()
    {
        await using var server = await TestServer.StartAsync();

        var result = await NodeScript.RunAsync("ws-interop.mjs", ScriptTimeout, server.BaseUrl);

        Assert.True(result.ExitCode == 0, $"ws-interop.mjs failed against {server.BaseUrl}: {result}");
        Assert.Contains("\"ok\":true", result.StandardOutput, StringComparison.Ordinal);
    }
}
