using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using Rocket.Live;
using Rocket.Transports;

namespace Rocket.Core.Tests.Live;

// The promise of docs/design.md, decisions 4 and 5, under load: many writers, subscribers joining and leaving at
// random, some resuming from their last cursor. Every subscriber ends with exactly the server's keyed document, and
// every resumed session saw byte for byte what an uninterrupted subscriber saw.
public class NoGapNoDuplicateTests
{
    private const int Writers = 4;
    private const int ChangesPerWriter = 500;
    private const int Joiners = 20;

    // Writers go on past ChangesPerWriter (up to this) until the joiners have resumed with events often enough: on a
    // busy machine the writers could otherwise finish before the joiners were scheduled at all.
    private const int MaxChangesPerWriter = 20_000;

    [Fact]
    public async Task ManyWritersAndJoiners_EverySubscriberConverges_ResumesMatchTheWitness()
    {
        // Room for every replay, so a resume is never turned into a reset or a slow-consumer close by the limits: the
        // history holds every change the writers can make, even when a busy machine keeps them writing to the maximum.
        using var collection = new LiveCollection("items", new LiveCollectionOptions
        {
            HistoryMaxEvents = Writers * MaxChangesPerWriter,
            HistoryMaxBytes = 256L * 1024 * 1024,
            SubscriberQueueMaxEvents = 100_000,
            SubscriberQueueMaxBytes = 64L * 1024 * 1024,
        });

        var witnessTransport = new InMemoryTransport();
        await using var witness = collection.Subscribe(witnessTransport);

        var progress = new Progress();
        var writing = Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(() => Write(collection, w, progress))));
        var joiners = Enumerable.Range(0, Joiners).Select(j => Task.Run(() => JoinAndLeaveAsync(collection, j, writing, progress))).ToArray();
        await writing.WaitAsync(LiveTest.Timeout);
        var results = await Task.WhenAll(joiners).WaitAsync(LiveTest.Timeout);

        var final = collection.GetSnapshot();
        var expected = JsonNode.Parse(final.ToKeyedJson());

        // The witness: one reset at 0, then every sequence exactly once, in order.
        var witnessEvents = await LiveTest.WaitForEventsAsync(witnessTransport, (int)final.Cursor.Sequence + 1);
        Assert.Equal(Enumerable.Range(0, (int)final.Cursor.Sequence + 1).Select(static i => (long)i), witnessEvents.Select(static e => e.Cursor.Sequence));
        LiveTest.AssertSameJson(expected, LiveTest.Apply(null, witnessEvents));
        var bySequence = witnessEvents.Skip(1).ToDictionary(static e => e.Cursor.Sequence, static e => e.Patch);

        var resumed = 0;
        foreach (var result in results)
        {
            LiveTest.AssertSameJson(expected, result.Document);
            foreach (var (cursor, patch) in result.LiveEvents)
            {
                Assert.Equal(bySequence[cursor.Sequence], patch);
            }

            resumed += result.Resumes;
        }

        Assert.True(resumed >= Joiners, $"only {resumed} sessions resumed from a cursor and received events");
        Assert.Equal(1, collection.SubscriberCount);
    }

    private static async Task Write(LiveCollection collection, int writer, Progress progress)
    {
        var random = new Random(writer);
        var live = new List<string>();
        var next = 0;
        for (var i = 0; i < ChangesPerWriter || (Volatile.Read(ref progress.ResumesWithEvents) < Joiners && i < MaxChangesPerWriter); i++)
        {
            if (i % 8 == 0)
            {
                // Spread the writes out so subscribers come and go while they happen.
                await Task.Yield();
            }

            var roll = random.Next(10);
            if (live.Count == 0 || roll < 4)
            {
                var id = string.Create(CultureInfo.InvariantCulture, $"w{writer}/{next++}");
                collection.Create(id, System.Text.Encoding.UTF8.GetBytes($$"""{"writer":{{writer}},"n":{{i}}}"""));
                live.Add(id);
            }
            else if (roll < 8)
            {
                var id = live[random.Next(live.Count)];
                collection.Apply(ChangeSet.Create(
                    RecordChange.Update(id, $$"""{"writer":{{writer}},"n":{{i}},"edited":true}"""),
                    RecordChange.Update(id, $$"""{"writer":{{writer}},"n":{{i}},"edited":2}""")));
            }
            else
            {
                var index = random.Next(live.Count);
                collection.Delete(live[index]);
                live.RemoveAt(index);
            }
        }
    }

    private static async Task<JoinerResult> JoinAndLeaveAsync(LiveCollection collection, int joiner, Task writing, Progress progress)
    {
        var random = new Random(1000 + joiner);
        JsonNode? document = null;
        Cursor? last = null;
        var liveEvents = new List<(Cursor Cursor, string Patch)>();
        var resumes = 0;
        var rounds = 0;
        while (true)
        {
            var finalRound = writing.IsCompleted && ++rounds >= 4;

            // Two times in three a returning subscriber resumes from its cursor; otherwise it starts over (a reset).
            var resume = last is not null && random.Next(3) != 0;
            var transport = new InMemoryTransport();
            var subscription = collection.Subscribe(transport, resume ? last.ToString() : null);
            if (finalRound)
            {
                // Stay until caught up with the final state; wait for the event count, never for a fixed time.
                var target = collection.Cursor.Sequence;
                var expectedFrames = (subscription.StartedWithReset ? 1 : 0) + (int)(target - subscription.StartCursor.Sequence);
                await transport.WaitForFramesAsync(expectedFrames).WaitAsync(LiveTest.Timeout);
            }
            else
            {
                // Leave at a random moment: that is the point of the test, not a wait for an event.
                await Task.Delay(random.Next(0, 4));
            }

            await subscription.DisposeAsync();
            var events = LiveTest.Events(transport);
            if (resume)
            {
                Assert.False(subscription.StartedWithReset, "a cursor still in history must resume, not reset");
                if (events.Count > 0)
                {
                    resumes++;
                    Interlocked.Increment(ref progress.ResumesWithEvents);
                }
            }

            var expectedSequence = resume ? last!.Value.Sequence + 1 : -1;
            foreach (var e in events)
            {
                if (e.Patch.StartsWith("""[{"op":"replace","path":"",""", StringComparison.Ordinal))
                {
                    Assert.False(resume, "a resumed session must not start with a reset");
                    Assert.Equal(-1, expectedSequence);
                    document = LiveTest.Apply(null, [e]);
                }
                else
                {
                    Assert.Equal(expectedSequence, e.Cursor.Sequence);
                    document = LiveTest.Apply(document, [e]);
                    liveEvents.Add(e);
                }

                expectedSequence = e.Cursor.Sequence + 1;
                last = e.Cursor;
            }

            if (finalRound)
            {
                return new JoinerResult(document, liveEvents, resumes);
            }
        }
    }

    private sealed class Progress
    {
        public int ResumesWithEvents;
    }

    private sealed record JoinerResult(JsonNode? Document, List<(Cursor Cursor, string Patch)> LiveEvents, int Resumes);
}
