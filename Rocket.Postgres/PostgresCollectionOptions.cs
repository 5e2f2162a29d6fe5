using System;
using System.Collections.Generic;

namespace Rocket.Postgres;

/// <summary>
/// How one live collection follows a PostgreSQL table. Configure with
/// <c>AddRocket().AddPostgresCollection("todos", o => { o.ConnectionString = ...; o.Table = "todos"; })</c>.
/// </summary>
public sealed class PostgresCollectionOptions
{
    /// <summary>
    /// The Npgsql connection string. The user needs the <c>REPLICATION</c> attribute (or to be a superuser), and the
    /// server <c>wal_level = logical</c>. Required.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>The table, optionally schema-qualified (<c>todos</c>, <c>app.todos</c>). Default: the collection's name.</summary>
    public string? Table { get; set; }

    /// <summary>
    /// The column whose text is the record's id (the record's <c>id</c> member). Default: the table's primary key, which
    /// must be a single column. When set, it must be that primary key: deletes carry only the primary key.
    /// </summary>
    public string? KeyColumn { get; set; }

    /// <summary>
    /// The columns that form a record, each a member of the same name (besides <c>id</c>, the key). Default: every
    /// column of the table.
    /// </summary>
    public IList<string>? Columns { get; set; }

    /// <summary>The publication the slot reads; created for the table when missing. Default <c>rocket_&lt;collection&gt;</c>.</summary>
    public string? Publication { get; set; }

    /// <summary>
    /// The start of the replication slot's name; Rocket appends <c>_</c> and 8 hex digits, new for every slot it creates,
    /// so a recreated slot is a new epoch. Default <c>rocket_&lt;collection&gt;</c> (at most 50 characters are kept).
    /// </summary>
    public string? SlotPrefix { get; set; }

    /// <summary>
    /// How long a write of the REST scaffold, once committed in the table, waits for its change to come back through
    /// replication (it answers with that event's cursor). Default 10 seconds; past it the client gets 503, and the change
    /// still reaches every stream when replication catches up.
    /// </summary>
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The first wait before the replication connection is opened again after it failed; doubled up to <see cref="MaxReconnectDelay"/>. Default 250 ms.</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest wait between two attempts to reconnect. Default 5 seconds.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often Rocket records the sequence of the last change it applied (in <see cref="PositionsTable"/>, when it
    /// changed) and confirms to the server what it has received, so the server can recycle WAL (and finish a shutdown,
    /// which waits for that) and a restarted app resumes from there. Default 1 second.
    /// </summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The table where Rocket records, per slot, the sequence at the position it last confirmed (created if missing;
    /// not published). A restarted app reads it to continue the cursors where they were. Default <c>rocket_positions</c>
    /// (in the connection's search path).
    /// </summary>
    public string PositionsTable { get; set; } = "rocket_positions";

    /// <summary>
    /// With several nodes (the app also calls <c>AddRedis</c>): how long the lease of the node that reads the
    /// replication slot and feeds the collection into Redis lasts without renewal (it is renewed every third of it). When
    /// that node dies without releasing it, another takes over after at most this. Default 5 seconds.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The most WAL, in bytes, the collection's replication slot may be behind the server's current position (the
    /// WAL written since the position Rocket last confirmed) before Rocket drops it: the slot then holds no more WAL,
    /// and a new slot is made and the table loaded again (a new epoch: clients reset). Checked when the slot is opened
    /// and every <see cref="CheckpointInterval"/> by every running node. Default null: no bound (set
    /// <c>max_slot_wal_keep_size</c> on the server as the last guard). Set it well above the WAL the whole server
    /// writes in a few checkpoint intervals.
    /// </summary>
    public long? MaxSlotLag { get; set; }

    internal IReadOnlyList<string>? ColumnList => Columns is null ? null : [.. Columns];
}
