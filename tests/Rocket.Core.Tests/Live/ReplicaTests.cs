using System;
using System.Collections.Generic;
using System.Text;
using System.Threading.Tasks;
using Rocket.JsonPatch;
using Rocket.Live;
using Rocket.Transports;

namespace Rocket.Core.Tests.Live;

/// <summary>
/// A collection fed by a source (Redis, a database): loaded with the source's epoch, records and history, then given
/// the events the source committed, in order; resumes and resets keep their meaning, and local writes are refused.
/// </summary>
public sealed class ReplicaTests
{
    private const uint SourceEpoch = 0x5eed0001;

    private static KeyValuePair<string, ReadOnlyMemory<byte>> Record(string id, string json) => new(id, Encoding.UTF8.GetBytes(json));

    private static ChangeSet Create(string id, string json) => ChangeSet.Create(RecordChange.Create(id, json));

    // A replica at sequence 3 of the source's epoch, holding a and b, whose history is the three events that built them.
    private static LiveCollection LoadedReplica()
    {
        var collection = new LiveCollection("messages", new LiveCollectionOptions { Epoch = 1 });
        collection.Load(SourceEpoch, 3, [Record("a", """{"n":2}"""), Record("b", """{"n":1}""")],
        [
            (new Cursor(SourceEpoch, 1), Create("a", """{"n":1}""")),
            (new Cursor(SourceEpoch, 2), ChangeSet.Create(RecordChange.Update("a", """{"n":2}"""))),
            (new Cursor(SourceEpoch, 3), Create("b", """{"n":1}""")),
        ]);
        return collection;
    }

    [Fact]
    public async Task Load_WithHistory_CursorFromHistoryResumesWithExactlyTheEventsAfterIt()
    {
        using var collection = LoadedReplica();
        var transport = new InMemoryTransport();

        using var subscription = collection.Subscribe(transport, new Cursor(SourceEpoch, 1).ToString());

        var events = await LiveTest.WaitForEventsAsync(transport, 2);
        Assert.False(subscription.StartedWithReset);
        Assert.Equal(new Cursor(SourceEpoch, 2), events[0].Cursor);
        Assert.Equal("""[{"op":"replace","path":"/messages/a","value":{"n":2}}]""", events[0].Patch);
        Assert.Equal("""[{"op":"add","path":"/messages/b","value":{"n":1}}]""", events[1].Patch);
        Assert.Equal(new Cursor(SourceEpoch, 3), collection.Cursor);
        Assert.True(collection.IsReplica);
    }

    [Fact]
    public async Task ApplyCommitted_NextEvent_AppliedAndFannedOut()
    {
        using var collection = LoadedReplica();
        var transport = new InMemoryTransport();
        using var subscription = collection.Subscribe(transport, collection.Cursor.ToString());

        Assert.True(collection.ApplyCommitted(new Cursor(SourceEpoch, 4), ChangeSet.Create(RecordChange.Destroy("b"))));

        var events = await LiveTest.WaitForEventsAsync(transport, 1);
        Assert.Equal(new Cursor(SourceEpoch, 4), events[0].Cursor);
        Assert.Equal("""[{"op":"remove","path":"/messages/b"}]""", events[0].Patch);
        Assert.Equal(1, collection.Count);
    }

    [Fact]
    public async Task Load_WithoutHistoryPastZero_NextEventAppliedAndCursorAtItResumes()
    {
        // A source whose log was emptied (a new epoch kept its records) loads at a sequence past 0 with no history.
        using var collection = new LiveCollection("messages");
        collection.Load(SourceEpoch, 5, [Record("a", "{}")]);

        Assert.True(collection.ApplyCommitted(new Cursor(SourceEpoch, 6), Create("b", "{}")));
        Assert.True(collection.ApplyCommitted(new Cursor(SourceEpoch, 7), Create("c", "{}")));

        var transport = new InMemoryTransport();
        using var subscription = collection.Subscribe(transport, new Cursor(SourceEpoch, 6).ToString());
        var events = await LiveTest.WaitForEventsAsync(transport, 1);
        Assert.False(subscription.StartedWithReset);
        Assert.Equal(new Cursor(SourceEpoch, 7), events[0].Cursor);
    }

    [Fact]
    public void ApplyCommitted_AlreadyHeld_FalseAndNothingChanges()
    {
        using var collection = LoadedReplica();

        Assert.False(collection.ApplyCommitted(new Cursor(SourceEpoch, 3), Create("c", "{}")));

        Assert.Equal(2, collection.Count);
        Assert.Equal(new Cursor(SourceEpoch, 3), collection.Cursor);
    }

    [Theory]
    [InlineData(SourceEpoch, 5)]
    [InlineData(SourceEpoch + 1, 4)]
    public void ApplyCommitted_GapOrOtherEpoch_ThrowsAndNothingChanges(uint epoch, long sequence)
    {
        using var collection = LoadedReplica();

        Assert.Throws<InvalidOperationException>(() => collection.ApplyCommitted(new Cursor(epoch, sequence), Create("c", "{}")));

        Assert.Equal(2, collection.Count);
        Assert.Equal(new Cursor(SourceEpoch, 3), collection.Cursor);
    }

    [Fact]
    public void ApplyCommitted_DivergedState_RefusedSoTheSourceReloads()
    {
        using var collection = LoadedReplica();

        var refused = Assert.Throws<ChangeRefusedException>(() => collection.ApplyCommitted(new Cursor(SourceEpoch, 4), Create("a", "{}")));

        Assert.Equal(ChangeRefusal.RecordAlreadyExists, refused.Reason);
        Assert.Equal(new Cursor(SourceEpoch, 3), collection.Cursor);
    }

    [Fact]
    public async Task Load_AgainWithNewEpoch_EndsSubscribersWhoThenGetAReset()
    {
        using var collection = LoadedReplica();
        var transport = new InMemoryTransport();
        using var subscription = collection.Subscribe(transport, collection.Cursor.ToString());

        collection.Load(SourceEpoch + 1, 0, []);

        var reason = await transport.Closed.WaitAsync(LiveTest.Timeout);
        Assert.Equal(CloseStatus.ShuttingDown, reason.Status);
        var again = new InMemoryTransport();
        using var resumed = collection.Subscribe(again, new Cursor(SourceEpoch, 3).ToString());
        var events = await LiveTest.WaitForEventsAsync(again, 1);
        Assert.True(resumed.StartedWithReset);
        Assert.Equal("""[{"op":"replace","path":"","value":{"messages":{}}}]""", events[0].Patch);
        Assert.Equal(new Cursor(SourceEpoch + 1, 0), events[0].Cursor);
    }

    [Fact]
    public void LocalWrites_OnReplica_RefusedWithHowToWrite()
    {
        using var collection = LoadedReplica();

        var error = Assert.Throws<InvalidOperationException>(() => collection.Create("c", "{}"u8));
        Assert.Contains("IRocketPublisher", error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => collection.Patch("a", JsonPatchDocument.Parse("""[{"op":"add","path":"/x","value":1}]""")));
        Assert.Equal(new Cursor(SourceEpoch, 3), collection.Cursor);
    }

    [Fact]
    public void Load_HistoryNotEndingAtSequence_Throws()
    {
        using var collection = new LiveCollection("messages");

        Assert.Throws<ArgumentException>(() => collection.Load(SourceEpoch, 5, [], [(new Cursor(SourceEpoch, 3), Create("a", "{}"))]));
        Assert.False(collection.IsReplica);
    }

    [Fact]
    public void Apply_ConditionalChangeOfChangedRecord_PreconditionFailedAndNothingChanges()
    {
        using var collection = new LiveCollection("messages");
        collection.Create("a", """{"n":1}"""u8);
        collection.Create("b", """{"n":1}"""u8);
        var cursor = collection.Cursor;

        var refused = Assert.Throws<ChangeRefusedException>(() => collection.Apply(ChangeSet.Create(
            RecordChange.Update("a", """{"n":2}""").IfMatch("""{"n":1}"""u8),
            RecordChange.Destroy("b").IfMatch("""{"n":0}"""u8))));

        Assert.Equal(ChangeRefusal.PreconditionFailed, refused.Reason);
        Assert.Equal(1, refused.ChangeIndex);
        Assert.Equal(cursor, collection.Cursor);
        Assert.Equal(2, collection.Count);
    }

    [Fact]
    public void Expected_UnconditionalChange_Null()
    {
        Assert.Null(RecordChange.Update("a", "{}").Expected);
        Assert.Null(RecordChange.Destroy("a").Expected);
        Assert.Equal("{}"u8.ToArray(), RecordChange.Destroy("a").IfMatch("{}"u8).Expected!.Value.ToArray());
    }

    [Fact]
    public void IfMatch_OnCreate_Throws()
    {
        Assert.Throws<InvalidOperationException>(() => RecordChange.Create("a", "{}").IfMatch("{}"u8));
    }

    [Fact]
    public void PreparePatch_WithinBudget_ConditionalUpdateOfThePatchedRecord()
    {
        using var collection = new LiveCollection("messages", new LiveCollectionOptions { MaxRecordBytes = 64 });

        var change = collection.PreparePatch("a", JsonPatchDocument.Parse("""[{"op":"add","path":"/m","value":2}]"""), """{"n":1}"""u8);

        Assert.Equal(RecordChangeKind.Update, change.Kind);
        Assert.Equal("""{"n":1,"m":2}""", Encoding.UTF8.GetString(change.Value.Span));
        Assert.Equal("""{"n":1}""", Encoding.UTF8.GetString(change.Expected!.Value.Span));
        var refused = Assert.Throws<ChangeRefusedException>(() => collection.PreparePatch("a", JsonPatchDocument.Parse($$"""[{"op":"add","path":"/m","value":"{{new string('x', 100)}}"}]"""), """{"n":1}"""u8));
        Assert.Equal(ChangeRefusal.RecordTooLarge, refused.Reason);
    }
}
