namespace Rocket.Redis;

/// <summary>
/// The Lua scripts every write and every load runs. Each runs atomically in Redis, so a collection's records, its
/// sequence and its log never disagree, whichever node writes. Keys: meta (a hash: <c>epoch</c>, 8 hex digits;
/// <c>seq</c>, decimal), records (a hash: id → JSON), log (a stream whose entry ids are <c>&lt;seq&gt;-0</c>), all under
/// one hash tag so a Redis Cluster keeps them in one slot.
/// </summary>
internal static class RedisScripts
{
    /// <summary>
    /// Loads a collection: its epoch (created, with an empty state, when the meta key is missing: a new, flushed or
    /// evicted Redis), its sequence, every record and the newest log entries, all read at one instant.
    /// KEYS: meta, records, log. ARGV: a fresh epoch for a new collection, how many log entries to return.
    /// Returns: epoch, seq, [id, value, ...], [[entry id, [field, value]], ...] newest first.
    /// </summary>
    public const string Load =
        """
        local epoch = redis.call('HGET', KEYS[1], 'epoch')
        if not epoch then
          -- Whatever is left of an older incarnation (records without a meta) must not leak into the new epoch.
          redis.call('DEL', KEYS[2], KEYS[3])
          redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'seq', 0)
          epoch = ARGV[1]
        end
        local seq = redis.call('HGET', KEYS[1], 'seq')
        local records = redis.call('HGETALL', KEYS[2])
        local history = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', ARGV[2])
        return {epoch, seq, records, history}
        """;

    /// <summary>
    /// Commits one change set, all or nothing: checks the epoch the node holds, every change against the records
    /// (create of an existing id, update or destroy of a missing one, a conditional change whose record differs), then
    /// writes the records, increments the sequence, appends the changes to the log (trimmed to the history length) and
    /// publishes them. KEYS: meta, records, log. ARGV: the node's epoch, the log's length, the channel, the node's
    /// sequence, the number of changes, then five per change: kind (c, u, d), id, value, whether it is conditional (1 or
    /// 0), the expected value. Returns {'OK', seq}; {'EPOCH', epoch or ''}; {'BEHIND'} when Redis's sequence is behind
    /// the node's (Redis lost writes the node saw: restored from an older snapshot, or a replica promoted before it had
    /// them); or {'EXISTS'|'NOTFOUND'|'PRECONDITION', change index, id}.
    /// </summary>
    public const string Write =
        """
        local epoch = redis.call('HGET', KEYS[1], 'epoch')
        if epoch ~= ARGV[1] then
          return {'EPOCH', epoch or ''}
        end
        if tonumber(redis.call('HGET', KEYS[1], 'seq')) < tonumber(ARGV[4]) then
          return {'BEHIND'}
        end
        local n = tonumber(ARGV[5])
        local staged = {}
        for i = 0, n - 1 do
          local at = 6 + i * 5
          local kind, id = ARGV[at], ARGV[at + 1]
          local exists = staged[id]
          if exists == nil then
            exists = redis.call('HEXISTS', KEYS[2], id) == 1
          end
          if kind == 'c' and exists then
            return {'EXISTS', tostring(i), id}
          end
          if kind ~= 'c' and not exists then
            return {'NOTFOUND', tostring(i), id}
          end
          if ARGV[at + 3] == '1' and redis.call('HGET', KEYS[2], id) ~= ARGV[at + 4] then
            return {'PRECONDITION', tostring(i), id}
          end
          staged[id] = kind ~= 'd'
        end
        local parts = {}
        for i = 0, n - 1 do
          local at = 6 + i * 5
          if ARGV[at] == 'd' then
            redis.call('HDEL', KEYS[2], ARGV[at + 1])
          else
            redis.call('HSET', KEYS[2], ARGV[at + 1], ARGV[at + 2])
          end
          for j = 0, 2 do
            local field = ARGV[at + j]
            parts[#parts + 1] = #field .. ':' .. field
          end
        end
        local changes = table.concat(parts)
        local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
        redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], seq .. '-0', 'c', changes)
        redis.call('PUBLISH', ARGV[3], epoch .. ' ' .. seq .. ' ' .. changes)
        return {'OK', tostring(seq)}
        """;

    /// <summary>
    /// Starts a new epoch for a collection whose Redis state is behind what a node saw under the current one: the same
    /// cursor would otherwise name two different events. Only if the meta is still that epoch and still behind (another
    /// node may have renewed it first). The records stay (they are what Redis holds); the log of the old epoch goes.
    /// KEYS: meta, records, log. ARGV: the epoch, the node's sequence, the new epoch. Returns 1 when renewed, else 0.
    /// </summary>
    public const string Renew =
        """
        local epoch = redis.call('HGET', KEYS[1], 'epoch')
        local seq = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
        if epoch == ARGV[1] and seq < tonumber(ARGV[2]) then
          redis.call('HSET', KEYS[1], 'epoch', ARGV[3])
          redis.call('DEL', KEYS[3])
          return 1
        end
        return 0
        """;
}
