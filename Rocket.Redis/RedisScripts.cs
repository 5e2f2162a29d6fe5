namespace Rocket.Redis;

/// <summary>
/// The Lua scripts every write and every load runs. Each runs atomically in Redis, so a collection's records, its
/// sequence and its log never disagree, whichever node writes. Keys: meta (a hash: <c>epoch</c>, 8 hex digits;
/// <c>seq</c>, decimal; <c>replid</c>, the replication id of the Redis the epoch belongs to), records (a hash: id →
/// JSON), log (a stream whose entry ids are <c>&lt;seq&gt;-0</c>), all under one hash tag so a Redis Cluster keeps them
/// in one slot.
/// </summary>
/// <remarks>
/// Redis's replication id (<c>master_replid</c> of <c>INFO replication</c>) is part of what an epoch stands for: a
/// replica shares its primary's id until it is promoted, and a promoted replica (or a restarted server) gets a new one.
/// A Redis whose id is not the one in meta may lack writes that clients saw under the epoch (replication is
/// asynchronous), so its state starts a new epoch before anything is read or written under the old one. Every script
/// reads the id itself, in the same atomic step as the data.
/// </remarks>
internal static class RedisScripts
{
    // Applies n changes given in ARGV from index `first` on, `stride` arguments apart (kind c/u/d, id, value first), to
    // the records (KEYS[2]), and returns them as the log and the channel carry them: each of kind, id and value as
    // `<length>:<bytes>`. The app's writes and a source's feed share it, so both encode events one way.
    internal const string ApplyChanges =
        """
        local function apply_changes(first, stride, n)
          local parts = {}
          for i = 0, n - 1 do
            local at = first + i * stride
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
          return table.concat(parts)
        end

        """;

    // The replication id of the Redis running the script.
    internal const string ReplicationId =
        """
        local function replid()
          return string.match(redis.call('INFO', 'replication'), 'master_replid:(%x+)') or ''
        end
        local function expire(ttl)
          if tonumber(ttl) > 0 then
            redis.call('PEXPIRE', KEYS[1], ttl)
            redis.call('PEXPIRE', KEYS[2], ttl)
            redis.call('PEXPIRE', KEYS[3], ttl)
          end
        end

        """;

    /// <summary>
    /// Loads a collection: its epoch (created, with an empty state, when the meta key is missing: a new, flushed or
    /// evicted Redis; renewed, keeping the records but not the log, when the meta was written on another Redis: a
    /// promoted replica), its sequence, every record and the newest log entries, all read at one instant.
    /// KEYS: meta, records, log. ARGV: a fresh epoch, how many log entries to return, a time to live in milliseconds for
    /// the keys (0: none). Returns: epoch, seq, [id, value, ...], [[entry id, [field, value]], ...] newest first, the id
    /// of the log's oldest entry (or ''), and what happened to the epoch ('' kept, 'new', 'failover').
    /// </summary>
    public const string Load = ReplicationId +
        """
        local id = replid()
        local epoch = redis.call('HGET', KEYS[1], 'epoch')
        local happened = ''
        if not epoch then
          -- Whatever is left of an older incarnation (records without a meta) must not leak into the new epoch.
          redis.call('DEL', KEYS[2], KEYS[3])
          redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'seq', 0, 'replid', id)
          epoch = ARGV[1]
          happened = 'new'
        elseif redis.call('HGET', KEYS[1], 'replid') ~= id then
          redis.call('DEL', KEYS[3])
          redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'replid', id)
          epoch = ARGV[1]
          happened = 'failover'
        end
        expire(ARGV[3])
        local seq = redis.call('HGET', KEYS[1], 'seq')
        local records = redis.call('HGETALL', KEYS[2])
        local history = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', ARGV[2])
        local oldest = redis.call('XRANGE', KEYS[3], '-', '+', 'COUNT', 1)
        local first = ''
        if oldest[1] then
          first = oldest[1][1]
        end
        return {epoch, seq, records, history, first, happened}
        """;

    /// <summary>
    /// Commits a batch of writes (change sets) in their order, each all or nothing on its own: checks once the epoch the
    /// node holds (and that Redis is the one it belongs to), then for each write every change against the records as
    /// the writes before it left them (create of an existing id, update or destroy of a missing one, a conditional
    /// change whose record differs). A write that passes is written whole: its records, the sequence incremented, its
    /// changes appended to the log (trimmed with <c>MAXLEN ~</c>, which keeps at least that many entries); one that
    /// does not is refused and changes nothing. The committed writes are published together, as one message (see
    /// <see cref="RedisChanges.TryParseMessage"/>). KEYS: meta, records, log. ARGV: the node's epoch,
    /// the log's length, the channel, the node's sequence, a time to live in milliseconds for the keys (0: none), the
    /// number of writes, then for each write the number of its changes and five per change: kind (c, u, d), id, value,
    /// whether it is conditional (1 or 0), the expected value. Returns {'OK', seq after the batch, result of each write}
    /// with each result {'OK', seq} or {'EXISTS'|'NOTFOUND'|'PRECONDITION', change index, id}; {'EPOCH', epoch or ''}
    /// (another epoch, or a Redis the epoch does not belong to: reload); or {'BEHIND'} when Redis's sequence is behind
    /// the node's (Redis lost writes the node saw: restored from an older snapshot, or a replica promoted before it had
    /// them). Nothing of the batch is written in the last two cases.
    /// </summary>
    public const string Write = ReplicationId + ApplyChanges +
        """
        local meta = redis.call('HMGET', KEYS[1], 'epoch', 'seq', 'replid')
        local epoch = meta[1]
        if epoch ~= ARGV[1] or meta[3] ~= replid() then
          return {'EPOCH', epoch or ''}
        end
        local seq = tonumber(meta[2])
        if seq < tonumber(ARGV[4]) then
          return {'BEHIND'}
        end
        local function refusal(first, n)
          local staged = {}
          for i = 0, n - 1 do
            local at = first + i * 5
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
          return nil
        end
        local results = {}
        local published = {}
        local at = 7
        for w = 1, tonumber(ARGV[6]) do
          local n = tonumber(ARGV[at])
          local first = at + 1
          local refused = refusal(first, n)
          if refused then
            results[w] = refused
          else
            local changes = apply_changes(first, 5, n)
            seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
            redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], seq .. '-0', 'c', changes)
            published[#published + 1] = ' ' .. seq .. ' ' .. #changes .. ':' .. changes
            results[w] = {'OK', tostring(seq)}
          end
          at = first + n * 5
        end
        if #published > 0 then
          redis.call('PUBLISH', ARGV[3], '*' .. epoch .. table.concat(published))
        end
        expire(ARGV[5])
        return {'OK', tostring(seq), results}
        """;

    /// <summary>
    /// A node's position check: the epoch and sequence in meta, and whether Redis is the one the epoch belongs to (1 or
    /// 0); refreshes the keys' time to live. KEYS: meta, records, log. ARGV: a time to live in milliseconds (0: none).
    /// Returns {epoch or '', seq or '0', 1|0}.
    /// </summary>
    public const string Position = ReplicationId +
        """
        local meta = redis.call('HMGET', KEYS[1], 'epoch', 'seq', 'replid')
        if not meta[1] then
          return {'', '0', 0}
        end
        expire(ARGV[1])
        local same = 0
        if meta[3] == replid() then
          same = 1
        end
        return {meta[1], meta[2], same}
        """;

    /// <summary>
    /// Reads log entries for a replay, only if the collection is still in that epoch on the Redis it belongs to.
    /// KEYS: meta, records, log. ARGV: the epoch, the first entry id, how many entries. Returns {1, entries} or {0}.
    /// </summary>
    public const string Range = ReplicationId +
        """
        local meta = redis.call('HMGET', KEYS[1], 'epoch', 'replid')
        if meta[1] ~= ARGV[1] or meta[2] ~= replid() then
          return {0}
        end
        return {1, redis.call('XRANGE', KEYS[3], ARGV[2], '+', 'COUNT', ARGV[3])}
        """;

    /// <summary>
    /// Starts a new epoch for a collection whose Redis state is behind what a node saw under the current one: the same
    /// cursor would otherwise name two different events. Only if the meta is still that epoch and still behind (another
    /// node may have renewed it first). The records stay (they are what Redis holds); the log of the old epoch goes.
    /// KEYS: meta, records, log. ARGV: the epoch, the node's sequence, the new epoch. Returns 1 when renewed, else 0.
    /// </summary>
    public const string Renew = ReplicationId +
        """
        local epoch = redis.call('HGET', KEYS[1], 'epoch')
        local seq = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
        if epoch == ARGV[1] and seq < tonumber(ARGV[2]) then
          redis.call('HSET', KEYS[1], 'epoch', ARGV[3], 'replid', replid())
          redis.call('DEL', KEYS[3])
          return 1
        end
        return 0
        """;
}
