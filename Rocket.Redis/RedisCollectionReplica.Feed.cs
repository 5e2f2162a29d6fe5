using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Rocket.Live;
using StackExchange.Redis;

namespace Rocket.Redis;

/// <summary>How a source's transaction fared in Redis.</summary>
internal enum FeedStatus
{
    /// <summary>Appended as the next event.</summary>
    Fed,

    /// <summary>Already in the state (its position is not past the state's): skipped.</summary>
    AlreadyFed,

    /// <summary>The lease is no longer the caller's: another node feeds now.</summary>
    Fenced,

    /// <summary>The state in Redis is not the one the caller's source built (flushed, renewed, reset by another).</summary>
    OtherState,
}

/// <summary>What Redis holds of a fed collection: its epoch and sequence, and which source state, up to where.</summary>
internal readonly record struct FeedState(uint? Epoch, long Sequence, string? Source, string? Position);

/// <summary>
/// A collection fed by an outside source (a database table through Rocket.Postgres) on several nodes: one node at a time
/// holds the collection's lease and feeds its Redis state, through the same keys, log and channel as any write, so the
/// other nodes follow it as replicas; see <see cref="RedisFeedScripts"/>.
/// </summary>
internal sealed partial class RedisCollectionReplica
{
    // How many records go into the staging hash per command when a source resets the state.
    private const int StagingBatch = 500;

    private string Tag => ((string)_keys[0]!)[..^":meta".Length];

    /// <summary>
    /// Whether an outside source feeds this collection: then the app's own writes (<see cref="IRocketPublisher"/>) are
    /// refused, since they would bypass the source, which is the one truth.
    /// </summary>
    internal bool IsExternallyFed { get; set; }

    /// <summary>Where the feeding node announces each transaction it fed (<c>written &lt;id&gt; &lt;epoch&gt; &lt;seq&gt;</c>) and a released lease (<c>released</c>).</summary>
    internal RedisChannel NoticeChannel => RedisChannel.Literal(Channel + ":notices");

    /// <summary>The app's write through <see cref="IRocketPublisher"/>: refused on a collection an outside source feeds.</summary>
    internal ValueTask<Cursor> CommitFromAppAsync(ChangeSet changes, CancellationToken cancellationToken) => IsExternallyFed
        ? throw new InvalidOperationException($"Collection '{Collection.Name}' is fed by its source (a database table); write to the source (or through the REST scaffold), not with IRocketPublisher.")
        : CommitAsync(changes, cancellationToken);

    /// <summary>Takes the lease if nobody holds it: its token, or null.</summary>
    internal async Task<string?> TryAcquireLeaseAsync(string node, TimeSpan duration)
    {
        var reply = (RedisResult[])(await EvaluateFeedAsync(RedisFeedScripts.Acquire, [Tag + ":lease", Tag + ":fence"], [node, (long)duration.TotalMilliseconds]).ConfigureAwait(false))!;
        return (int)reply[0] == 1 ? (string)reply[1]! : null;
    }

    internal async Task<bool> RenewLeaseAsync(string token, TimeSpan duration) =>
        (int)await EvaluateFeedAsync(RedisFeedScripts.Renew, [Tag + ":lease"], [token, (long)duration.TotalMilliseconds]).ConfigureAwait(false) == 1;

    internal async Task ReleaseLeaseAsync(string token) =>
        await EvaluateFeedAsync(RedisFeedScripts.Release, [Tag + ":lease"], [token, NoticeChannel.ToString()]).ConfigureAwait(false);

    internal async Task<FeedState> ReadFeedAsync()
    {
        RedisValue[] meta;
        try
        {
            meta = await _database.HashGetAsync(_keys[0], ["epoch", "seq", "source", "position"]).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisConnectionException or RedisTimeoutException)
        {
            throw new SourceUnavailableException($"Redis cannot be reached for collection '{Collection.Name}'.", e, TimeSpan.FromSeconds(1));
        }

        uint? epoch = !meta[0].IsNull && TryParseEpoch(meta[0]!, out var parsed) ? parsed : null;
        return new FeedState(epoch, meta[1].IsNull ? 0 : (long)meta[1], meta[2].IsNull ? null : (string?)meta[2], meta[3].IsNull ? null : (string?)meta[3]);
    }

    /// <summary>
    /// Replaces the state with <paramref name="records"/> in <paramref name="epoch"/> at sequence 0, built from
    /// <paramref name="source"/> up to <paramref name="position"/>; every replica (this one first) loads it.
    /// </summary>
    /// <returns>False when the lease is not the caller's (nothing changed).</returns>
    internal async Task<bool> ResetAsync(string token, uint epoch, string source, string position, IReadOnlyList<KeyValuePair<string, ReadOnlyMemory<byte>>> records, CancellationToken cancellationToken)
    {
        // A staging hash of this holding only (named by the token's fence number), so a fenced-out node's leftovers
        // cannot mix in; it expires if the reset never completes.
        RedisKey staging = Tag + ":staging:" + token.Split(' ')[0];
        try
        {
            await _database.KeyDeleteAsync(staging).ConfigureAwait(false);
            for (var at = 0; at < records.Count; at += StagingBatch)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var count = Math.Min(StagingBatch, records.Count - at);
                var fields = new HashEntry[count];
                for (var i = 0; i < count; i++)
                {
                    fields[i] = new HashEntry(records[at + i].Key, records[at + i].Value);
                }

                await _database.HashSetAsync(staging, fields).ConfigureAwait(false);
                await _database.KeyExpireAsync(staging, TimeSpan.FromMinutes(10)).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is RedisConnectionException or RedisTimeoutException)
        {
            throw new SourceUnavailableException($"Redis cannot be reached for collection '{Collection.Name}'.", e, TimeSpan.FromSeconds(1));
        }

        var done = (int)await EvaluateFeedAsync(
            RedisFeedScripts.Reset,
            [_keys[0], _keys[1], _keys[2], Tag + ":lease", staging],
            [token, RedisChanges.FormatEpoch(epoch), source, position, Channel.ToString()]).ConfigureAwait(false) == 1;
        if (done)
        {
            await LoadAsync("source_reset", cancellationToken).ConfigureAwait(false);
        }

        return done;
    }

    /// <summary>
    /// Appends one transaction of the source (ending at <paramref name="position"/>) as the next event, unless the state
    /// already holds it; once fed, this node's replica has it before this returns.
    /// </summary>
    internal async Task<(FeedStatus Status, Cursor Cursor)> FeedAsync(string token, uint epoch, string source, string position, string transaction, ChangeSet changes)
    {
        var epochText = RedisChanges.FormatEpoch(epoch);
        var arguments = new RedisValue[9 + (3 * changes.Count)];
        arguments[0] = token;
        arguments[1] = epochText;
        arguments[2] = source;
        arguments[3] = position;
        arguments[4] = _historyCount;
        arguments[5] = Channel.ToString();
        arguments[6] = NoticeChannel.ToString();
        arguments[7] = transaction;
        arguments[8] = changes.Count;
        var at = 9;
        foreach (var change in changes)
        {
            arguments[at++] = RedisChanges.Kind(change.Kind);
            arguments[at++] = change.Id;
            arguments[at++] = change.Value;
        }

        var reply = (RedisResult[])(await EvaluateFeedAsync(RedisFeedScripts.Feed, [_keys[0], _keys[1], _keys[2], Tag + ":lease"], arguments).ConfigureAwait(false))!;
        switch ((string)reply[0]!)
        {
            case "OK":
                var cursor = new Cursor(epoch, (long)reply[1]);
                await OnPublishedAsync(cursor, changes).ConfigureAwait(false);
                return (FeedStatus.Fed, cursor);
            case "STALE":
                return (FeedStatus.AlreadyFed, default);
            case "FENCED":
                return (FeedStatus.Fenced, default);
            default:
                return (FeedStatus.OtherState, default);
        }
    }

    /// <summary>Records that the state holds everything of the source before <paramref name="position"/>.</summary>
    /// <returns>False when the lease or the state is not the caller's.</returns>
    internal async Task<bool> AdvanceAsync(string token, uint epoch, string source, string position) =>
        (int)await EvaluateFeedAsync(RedisFeedScripts.Advance, [_keys[0], Tag + ":lease"], [token, RedisChanges.FormatEpoch(epoch), source, position]).ConfigureAwait(false) == 1;

    private async Task<RedisResult> EvaluateFeedAsync(string script, RedisKey[] keys, RedisValue[] arguments)
    {
        try
        {
            return await _database.ScriptEvaluateAsync(script, keys, arguments).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisConnectionException or RedisTimeoutException)
        {
            throw new SourceUnavailableException($"Redis cannot be reached for collection '{Collection.Name}'.", e, TimeSpan.FromSeconds(1));
        }
    }
}
