namespace Rocket.Redis;

/// <summary>
/// The scripts with which an outside source (a database's change stream, such as Rocket.Postgres) feeds a collection's
/// Redis state, so that every node's replica, cursor and resume work as for any Redis collection. One node at a time
/// feeds, holding a lease (<c>{tag}:lease</c>, a string <c>&lt;fence&gt; &lt;node&gt;</c> with an expiry); every script
/// that changes the collection checks that the lease still holds the caller's token, so a node that lost its lease
/// (paused past its expiry, cut off) cannot write once another has taken over. Besides <c>epoch</c> and <c>seq</c>, the
/// meta hash then holds <c>source</c> (what the state was built from: the replication slot's name) and <c>position</c>
/// (the source's position the state holds everything before: 16 hex digits, so that comparing strings compares
/// positions).
/// </summary>
internal static class RedisFeedScripts
{
    /// <summary>
    /// Takes the lease when nobody holds it. KEYS: lease, fence (a counter). ARGV: the node's name, the lease's duration
    /// in milliseconds. Returns {1, token} when taken (the token carries a fence number no earlier holding had), else {0}.
    /// </summary>
    public const string Acquire =
        """
        if redis.call('EXISTS', KEYS[1]) == 1 then
          return {0}
        end
        local token = redis.call('INCR', KEYS[2]) .. ' ' .. ARGV[1]
        redis.call('SET', KEYS[1], token, 'PX', ARGV[2])
        return {1, token}
        """;

    /// <summary>Extends the lease if the caller still holds it. KEYS: lease. ARGV: token, duration in ms. Returns 1 or 0.</summary>
    public const string Renew =
        """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          redis.call('PEXPIRE', KEYS[1], ARGV[2])
          return 1
        end
        return 0
        """;

    /// <summary>Gives the lease up if the caller holds it. KEYS: lease. ARGV: token, the notice channel. Returns 1 or 0.</summary>
    public const string Release =
        """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          redis.call('DEL', KEYS[1])
          redis.call('PUBLISH', ARGV[2], 'released')
          return 1
        end
        return 0
        """;

    /// <summary>
    /// Replaces the collection's state with a source's, in a new epoch at sequence 0, and tells every replica to load it
    /// (a message of the new epoch). The records were written beforehand into a staging hash of this holding, which is
    /// renamed: the switch is atomic however large the table. The state records the replication id of the Redis it is on,
    /// as every load does, so the replicas' position checks know it for this Redis's. KEYS: meta, records, log, lease, staging. ARGV: token,
    /// epoch, source, position, channel. Returns 1, or 0 when the lease is not the caller's.
    /// </summary>
    public const string Reset = RedisScripts.ReplicationId +
        """
        if redis.call('GET', KEYS[4]) ~= ARGV[1] then
          redis.call('DEL', KEYS[5])
          return 0
        end
        redis.call('DEL', KEYS[2], KEYS[3])
        if redis.call('EXISTS', KEYS[5]) == 1 then
          redis.call('PERSIST', KEYS[5])
          redis.call('RENAME', KEYS[5], KEYS[2])
        end
        redis.call('DEL', KEYS[1])
        redis.call('HSET', KEYS[1], 'epoch', ARGV[2], 'seq', 0, 'source', ARGV[3], 'position', ARGV[4], 'replid', replid())
        redis.call('PUBLISH', ARGV[5], ARGV[2] .. ' 0 ')
        return 1
        """;

    /// <summary>
    /// Appends one transaction of the source as the collection's next event, idempotently: a position not past the one
    /// the state holds was fed already (by this node before a reconnection, or by the previous holder) and is skipped.
    /// The changes are facts of the source, applied as they are (no condition). Then the event is logged and published
    /// exactly as the write script does, and the source's transaction id is announced (the node that made the write
    /// answers its client with the event's cursor). KEYS: meta, records, log, lease. ARGV: token, epoch, source,
    /// position, history length, channel, notice channel, transaction id, number of changes, then three per change:
    /// kind (c, u, d), id, value. Returns {'OK', seq}, {'STALE'} (already fed), {'FENCED'} (the lease is not the
    /// caller's) or {'EPOCH'} (the state is no longer the one this source built: flushed, renewed or reset by another).
    /// </summary>
    public const string Feed = RedisScripts.ApplyChanges +
        """
        if redis.call('GET', KEYS[4]) ~= ARGV[1] then
          return {'FENCED'}
        end
        local meta = redis.call('HMGET', KEYS[1], 'epoch', 'source', 'position')
        if meta[1] ~= ARGV[2] or meta[2] ~= ARGV[3] or not meta[3] then
          return {'EPOCH'}
        end
        if ARGV[4] <= meta[3] then
          return {'STALE'}
        end
        local changes = apply_changes(10, 3, tonumber(ARGV[9]))
        local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
        redis.call('HSET', KEYS[1], 'position', ARGV[4])
        redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], seq .. '-0', 'c', changes)
        redis.call('PUBLISH', ARGV[6], ARGV[2] .. ' ' .. seq .. ' ' .. changes)
        redis.call('PUBLISH', ARGV[7], 'written ' .. ARGV[8] .. ' ' .. ARGV[2] .. ' ' .. seq)
        return {'OK', tostring(seq)}
        """;

    /// <summary>
    /// Records that the state holds everything of the source before a position (transactions that did not touch the
    /// collection move it too), so the next holder starts there. KEYS: meta, lease. ARGV: token, epoch, source, position.
    /// Returns 1, or 0 when the lease or the state is not the caller's.
    /// </summary>
    public const string Advance =
        """
        if redis.call('GET', KEYS[2]) ~= ARGV[1] then
          return 0
        end
        local meta = redis.call('HMGET', KEYS[1], 'epoch', 'source', 'position')
        if meta[1] ~= ARGV[2] or meta[2] ~= ARGV[3] or not meta[3] then
          return 0
        end
        if ARGV[4] > meta[3] then
          redis.call('HSET', KEYS[1], 'position', ARGV[4])
        end
        return 1
        """;
}
