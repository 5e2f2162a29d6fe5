using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Rocket.Live;
using StackExchange.Redis;

namespace Rocket.Redis;

/// <summary>
/// The collection's writes, batched: while one batch's script runs in Redis, the writes made in the meantime queue, and
/// they go together as the next batch, in one script call (<see cref="RedisScripts.Write"/>). Each write of a batch is
/// still committed or refused on its own, atomically, in the order the writes were made; the replica applies the
/// committed ones in their sequence order under its gate, once per batch, and each write's caller gets its own answer.
/// </summary>
/// <remarks>
/// One batch at a time per collection: a write never waits for more than the batch in flight, and a lone write goes at
/// once (one script call, as without batching). Batching spends the time of a round trip that the writes would
/// otherwise each spend on their own: the script's call, its reply and the replica's gate are paid once per batch.
/// </remarks>
internal sealed partial class RedisCollectionReplica
{
    // Bounds of one batch. A script holds Redis (every other client waits) while it runs, so a batch stays short: at
    // most this many writes and about this many changes (a single write larger than that still goes, alone).
    private const int BatchMaxWrites = 64;
    private const int BatchMaxChanges = 1024;

    private readonly object _writesLock = new();
    private readonly List<PendingWrite> _queued = [];
    private bool _writing;

    // A write waiting for its batch, then for its answer. Answers are given on one thread-pool work item per batch (see
    // Answer), where the callers' continuations run one after another: not on the batch loop, which a caller could
    // otherwise hold up or wait on, and not one work item per write, whose thread wake-ups cost more CPU than the
    // continuations themselves.
    private sealed class PendingWrite(ChangeSet changes) : TaskCompletionSource<Cursor>
    {
        public ChangeSet Changes { get; } = changes;

        // A write that meets another epoch (or a Redis behind the node) goes again once after the reload.
        public int Attempt { get; set; } = 1;
    }

    private void Enqueue(PendingWrite write)
    {
        lock (_writesLock)
        {
            _queued.Add(write);
            if (_writing)
            {
                return;
            }

            _writing = true;
        }

        // The first batch starts on the caller's thread, so a lone write goes out without a hop.
        _ = WriteBatchesAsync();
    }

    // Runs the batches until the queue is empty; the only one running for this collection.
    private async Task WriteBatchesAsync()
    {
        while (true)
        {
            List<PendingWrite> batch;
            lock (_writesLock)
            {
                if (_queued.Count == 0)
                {
                    _writing = false;
                    return;
                }

                var count = 0;
                var changes = 0;
                while (count < _queued.Count && count < BatchMaxWrites && (count == 0 || changes + _queued[count].Changes.Count <= BatchMaxChanges))
                {
                    changes += _queued[count].Changes.Count;
                    count++;
                }

                batch = _queued.GetRange(0, count);
                _queued.RemoveRange(0, count);
            }

#pragma warning disable CA1031 // Every write of the batch gets the failure as its answer; the loop goes on with the next.
            try
            {
                await WriteBatchAsync(batch).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                Answer(() =>
                {
                    foreach (var write in batch)
                    {
                        write.TrySetException(e);
                    }
                });
            }
#pragma warning restore CA1031
        }
    }

    // Gives a batch's answers on a thread-pool work item of their own (see PendingWrite).
    private static void Answer(Action answers) => ThreadPool.UnsafeQueueUserWorkItem(static answers => answers(), answers, preferLocal: false);

    // One script call for the batch; every write gets its answer, or goes back to the front of the queue (in its order)
    // when the batch met another epoch and it may try again.
    private async Task WriteBatchAsync(List<PendingWrite> batch)
    {
        var local = Collection.Cursor;
        var epoch = local.Epoch;
        var reply = (RedisResult[])(await EvaluateAsync(RedisScripts.Write, BatchArguments(local, batch)).ConfigureAwait(false))!;
        var status = (string)reply[0]!;
        if (status == "OK")
        {
            await ApplyBatchAsync(epoch, batch, reply).ConfigureAwait(false);
            return;
        }

        var again = new List<PendingWrite>(batch.Count);
        var givenUp = new List<PendingWrite>();
        foreach (var write in batch)
        {
            if (write.Attempt < EpochAttempts)
            {
                write.Attempt++;
                again.Add(write);
            }
            else
            {
                givenUp.Add(write);
            }
        }

        if (givenUp.Count > 0)
        {
            var recreated = new SourceUnavailableException($"Collection '{Collection.Name}' was recreated in Redis while this write was made; nothing was written.", null, TimeSpan.FromSeconds(1));
            Answer(() =>
            {
                foreach (var write in givenUp)
                {
                    write.TrySetException(recreated);
                }
            });
        }

        if (again.Count == 0)
        {
            return;
        }

        try
        {
            if (status == "EPOCH")
            {
                Log.EpochChanged(_logger, Collection.Name, RedisChanges.FormatEpoch(epoch), (string?)reply[1] ?? string.Empty);
                await LoadAsync("epoch_changed", CancellationToken.None).ConfigureAwait(false);
            }
            else
            {
                await WithGateAsync(() => RenewCoreAsync(local), CancellationToken.None).ConfigureAwait(false);
            }
        }
#pragma warning disable CA1031 // The writes that would go again get the failure of the reload as their answer.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Answer(() =>
            {
                foreach (var write in again)
                {
                    write.TrySetException(e);
                }
            });
            return;
        }

        lock (_writesLock)
        {
            _queued.InsertRange(0, again);
        }
    }

    // The batch committed: the replica applies its writes in sequence order (filling from the log whatever another node
    // wrote before them), and, if any was refused, catches up to the state after the batch, so that a caller that reads
    // and retries (a patch's compare-and-swap) sees what refused it. Then each write gets its answer.
    private async Task ApplyBatchAsync(uint epoch, List<PendingWrite> batch, RedisResult[] reply)
    {
        var results = (RedisResult[])reply[2]!;
        var outcomes = new RedisResult[batch.Count][];
        var refused = false;
        Exception? failure = null;
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            for (var i = 0; i < batch.Count; i++)
            {
                var result = outcomes[i] = (RedisResult[])results[i]!;
                if ((string)result[0]! == "OK")
                {
                    await CatchUpCoreAsync(new Cursor(epoch, (long)result[1]), batch[i].Changes).ConfigureAwait(false);
                }
                else
                {
                    refused = true;
                }
            }

            if (refused)
            {
                await CatchUpCoreAsync(new Cursor(epoch, (long)reply[1]), null).ConfigureAwait(false);
            }
        }
#pragma warning disable CA1031 // Committed in Redis, but this node could not catch up: each committed write's caller gets why.
        catch (Exception e)
#pragma warning restore CA1031
        {
            failure = e;
        }
        finally
        {
            _gate.Release();
        }

        Answer(() =>
        {
            for (var i = 0; i < batch.Count; i++)
            {
                var result = outcomes[i];
                if (result is null)
                {
                    batch[i].TrySetException(failure!);
                }
                else if ((string)result[0]! != "OK")
                {
                    batch[i].TrySetException(Refusal((string)result[0]!, int.Parse((string)result[1]!, System.Globalization.CultureInfo.InvariantCulture), (string)result[2]!));
                }
                else if (failure is not null)
                {
                    batch[i].TrySetException(failure);
                }
                else
                {
                    batch[i].TrySetResult(new Cursor(epoch, (long)result[1]));
                }
            }
        });
    }

    private RedisValue[] BatchArguments(Cursor local, List<PendingWrite> batch)
    {
        var changes = 0;
        foreach (var write in batch)
        {
            changes += write.Changes.Count;
        }

        var arguments = new RedisValue[6 + batch.Count + (5 * changes)];
        arguments[0] = RedisChanges.FormatEpoch(local.Epoch);
        arguments[1] = _logCount;
        arguments[2] = _channelName;
        arguments[3] = local.Sequence;
        arguments[4] = _timeToLiveMs;
        arguments[5] = batch.Count;
        var at = 6;
        foreach (var write in batch)
        {
            arguments[at++] = write.Changes.Count;
            foreach (var change in write.Changes)
            {
                arguments[at++] = RedisChanges.Kind(change.Kind);
                arguments[at++] = change.Id;
                arguments[at++] = change.Value;
                arguments[at++] = change.Expected is null ? "0" : "1";
                arguments[at++] = change.Expected is { } expected ? expected : RedisValue.EmptyString;
            }
        }

        return arguments;
    }
}
