using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Tasks;
using Rocket.JsonPatch;
using Rocket.Live;
using Rocket.Transports;

namespace Rocket.Core.Tests.Live;

internal static class LiveTest
{
    // Generous: a test only waits this long when it is already failing.
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    public static (Cursor Cursor, string Patch) Decode(byte[] frame)
    {
        Assert.True(InMemoryEventFramer.TryDecode(frame, out var cursor, out var patch));
        return (cursor, Encoding.UTF8.GetString(patch));
    }

    public static List<(Cursor Cursor, string Patch)> Events(InMemoryTransport transport) => transport.Frames.Select(Decode).ToList();

    public static async Task<List<(Cursor Cursor, string Patch)>> WaitForEventsAsync(InMemoryTransport transport, int count)
    {
        await transport.WaitForFramesAsync(count).WaitAsync(Timeout);
        return Events(transport);
    }

    // Applies the stream's patches in order, as any RFC 6902 client would.
    public static JsonNode? Apply(JsonNode? document, IEnumerable<(Cursor Cursor, string Patch)> events)
    {
        foreach (var (_, patch) in events)
        {
            document = JsonPatchDocument.Parse(patch).ApplyTo(document);
        }

        return document;
    }

    /// <summary>Polls a condition the collection exposes until it holds, failing after <see cref="Timeout"/>.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold in time");
            await Task.Delay(5);
        }
    }

    public static JsonNode Keyed(LiveCollection collection) => JsonNode.Parse(collection.GetSnapshot().ToKeyedJson())!;

    public static void AssertSameJson(JsonNode? expected, JsonNode? actual) =>
        Assert.True(JsonNode.DeepEquals(expected, actual), $"expected {expected?.ToJsonString()} but got {actual?.ToJsonString()}");
}
