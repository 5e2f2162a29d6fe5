using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.Live;

/// <summary>
/// A log of a collection's events kept outside the process (a Redis stream, a database table), longer than the
/// collection's in-memory history: a cursor older than the history but still in this log is replayed from it, in
/// pages, instead of getting a reset. Set on <see cref="LiveCollection.HistorySource"/> by the source that feeds the
/// collection.
/// </summary>
public interface IHistorySource
{
    /// <summary>
    /// Whether the log holds every event after <paramref name="from"/> up to <paramref name="current"/>, the collection's
    /// sequence now. Called under the collection's lock: it must answer from what the source already knows, without I/O.
    /// A yes that turns out wrong (the log was trimmed meanwhile) only makes the subscriber reconnect.
    /// </summary>
    bool Covers(Cursor from, long current);

    /// <summary>
    /// Reads at most <paramref name="maxEvents"/> events that follow <paramref name="after"/>, oldest first, each with its
    /// cursor and changes. Fewer than asked, or events that do not follow one another from <paramref name="after"/>,
    /// mean the log no longer holds them (the subscriber is told to reconnect).
    /// </summary>
    ValueTask<IReadOnlyList<(Cursor Cursor, ChangeSet Changes)>> ReadAsync(Cursor after, int maxEvents, CancellationToken cancellationToken);
}
