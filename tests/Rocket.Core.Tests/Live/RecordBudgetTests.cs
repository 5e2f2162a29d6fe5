using System;
using System.Linq;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using Rocket.JsonPatch;
using Rocket.Live;

namespace Rocket.Core.Tests.Live;

/// <summary>
/// A collection's record budgets (size and depth) hold for every write, patches included, and a patch applied outside
/// the collection's lock still commits in order, all or nothing.
/// </summary>
public sealed class RecordBudgetTests
{
    private static LiveCollection NewCollection(int maxBytes = LiveCollectionOptions.DefaultMaxRecordBytes, int maxDepth = LiveCollectionOptions.DefaultMaxRecordDepth) =>
        new("messages", new LiveCollectionOptions { MaxRecordBytes = maxBytes, MaxRecordDepth = maxDepth });

    private static string Nested(int depth) => new string('[', depth) + new string(']', depth);

    [Fact]
    public void Patch_RootCopiedTwentyTimes_RefusedTooLargeRecordAndCursorUnchanged()
    {
        // The 871-byte PATCH that built a 161 MB record: twenty copies of the record into itself.
        using var collection = NewCollection(maxBytes: 64 * 1024);
        collection.Create("1", Encoding.UTF8.GetBytes($$"""{"text":"{{new string('x', 1000)}}"}"""));
        collection.TryGet("1", out var before);
        var cursor = collection.Cursor;
        var patch = JsonPatchDocument.Parse("[" + string.Join(",", Enumerable.Range(0, 20).Select(static i => $$"""{"op":"copy","from":"","path":"/c{{i}}"}""")) + "]");

        var refused = Assert.Throws<ChangeRefusedException>(() => collection.Patch("1", patch));

        Assert.Equal(ChangeRefusal.RecordTooLarge, refused.Reason);
        Assert.Equal(JsonPatchError.DocumentTooLarge, Assert.IsType<JsonPatchException>(refused.InnerException).Error);
        collection.TryGet("1", out var after);
        Assert.Equal(before.ToArray(), after.ToArray());
        Assert.Equal(cursor, collection.Cursor);
    }

    [Fact]
    public void Patch_GrowsRecordPastLimitOneRequestAtATime_LastOneRefused()
    {
        using var collection = NewCollection(maxBytes: 4096);
        collection.Create("1", """{"items":[]}"""u8);
        var item = JsonPatchDocument.Parse($$"""[{"op":"add","path":"/items/-","value":"{{new string('y', 1000)}}"}]""");

        for (var i = 0; i < 4; i++)
        {
            collection.Patch("1", item);
        }

        var refused = Assert.Throws<ChangeRefusedException>(() => collection.Patch("1", item));
        Assert.Equal(ChangeRefusal.RecordTooLarge, refused.Reason);
        collection.TryGet("1", out var record);
        Assert.InRange(record.Length, 4000, 4096);
    }

    [Fact]
    public void Patch_DeepPath_RefusedTooDeep()
    {
        using var collection = NewCollection(maxDepth: 8);
        collection.Create("1", """{"a":{}}"""u8);
        var deep = string.Concat(Enumerable.Repeat("/a", 9));

        var refused = Assert.Throws<ChangeRefusedException>(() => collection.Patch("1", JsonPatchDocument.Parse($$"""[{"op":"add","path":"{{deep}}","value":1}]""")));

        Assert.Equal(ChangeRefusal.RecordTooDeep, refused.Reason);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void CreateAndUpdate_OverSizeLimit_RefusedTooLarge(bool create)
    {
        using var collection = NewCollection(maxBytes: 100);
        collection.Create("1", """{"a":1}"""u8);
        var cursor = collection.Cursor;
        var large = Encoding.UTF8.GetBytes($$"""{"text":"{{new string('z', 100)}}"}""");

        var refused = Assert.Throws<ChangeRefusedException>(() => create ? collection.Create("2", large) : collection.Update("1", large));

        Assert.Equal(ChangeRefusal.RecordTooLarge, refused.Reason);
        Assert.Equal(cursor, collection.Cursor);
        Assert.Equal(1, collection.Count);
    }

    [Fact]
    public void Create_AtAndOverDepthLimit_AcceptedThenRefusedTooDeep()
    {
        using var collection = NewCollection(maxDepth: 5);

        collection.Create("ok", Encoding.UTF8.GetBytes(Nested(5)));
        var refused = Assert.Throws<ChangeRefusedException>(() => collection.Create("deep", Encoding.UTF8.GetBytes(Nested(6))));

        Assert.Equal(ChangeRefusal.RecordTooDeep, refused.Reason);
        Assert.Equal(1, collection.Count);
    }

    [Fact]
    public void UpdateIfMatch_OverSizeLimit_RefusedTooLarge()
    {
        using var collection = NewCollection(maxBytes: 100);
        collection.Create("1", """{"a":1}"""u8);
        collection.TryGet("1", out var current);

        var refused = Assert.Throws<ChangeRefusedException>(() => collection.Update("1", Encoding.UTF8.GetBytes($$"""{"t":"{{new string('z', 100)}}"}"""), current.Span));

        Assert.Equal(ChangeRefusal.RecordTooLarge, refused.Reason);
    }

    [Theory]
    [InlineData(0, 64)]
    [InlineData(1024, 0)]
    [InlineData(1024, 65)]
    public void Constructor_InvalidRecordLimits_Throw(int maxBytes, int maxDepth)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LiveCollection("m", new LiveCollectionOptions { MaxRecordBytes = maxBytes, MaxRecordDepth = maxDepth }));
    }

    [Fact]
    public async Task Patch_ConcurrentAppendsToOneRecord_EveryPatchCommittedOnce()
    {
        // Patches race outside the lock; each must commit against the record it was applied to, so none is lost.
        using var collection = NewCollection();
        collection.Create("1", """{"items":[]}"""u8);
        const int Writers = 4;
        const int PerWriter = 200;
        using var start = new ManualResetEventSlim();

        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(() =>
        {
            start.Wait();
            for (var i = 0; i < PerWriter; i++)
            {
                collection.Patch("1", JsonPatchDocument.Parse($$"""[{"op":"add","path":"/items/-","value":"{{w}}.{{i}}"}]"""));
            }
        })).ToArray();
        start.Set();
        await Task.WhenAll(writers);

        collection.TryGet("1", out var record);
        var items = JsonNode.Parse(record.Span)!["items"]!.AsArray().Select(static n => n!.GetValue<string>()).ToArray();
        Assert.Equal(Writers * PerWriter, items.Length);
        Assert.Equal(Writers * PerWriter, items.Distinct().Count());
        Assert.Equal(1 + (Writers * PerWriter), collection.Cursor.Sequence);
        for (var w = 0; w < Writers; w++)
        {
            // Each writer's own appends keep their order.
            var own = items.Where(i => i.StartsWith($"{w}.", StringComparison.Ordinal)).Select(static i => int.Parse(i.AsSpan(i.IndexOf('.') + 1), System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(Enumerable.Range(0, PerWriter), own);
        }
    }
}
