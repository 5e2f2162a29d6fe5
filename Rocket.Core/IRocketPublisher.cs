using System.Threading;
using System.Threading.Tasks;
using Rocket.Live;

namespace Rocket;

/// <summary>
/// How an app that keeps its own database tells Rocket what it changed: after its own write succeeds, it publishes the
/// change set, and every subscriber of the collection gets it as one event.
/// </summary>
/// <remarks>
/// Publish in the order the writes committed, and only after they committed: the collection's state mirrors the app's,
/// and a change that does not fit it (an update of an id it does not hold) is refused, which usually means a missed
/// create. Asynchronous because a durable or distributed log (Redis Streams) may carry the event in the future.
/// </remarks>
public interface IRocketPublisher
{
    /// <summary>Publishes <paramref name="changes"/> to the collection named <paramref name="collection"/>.</summary>
    /// <returns>The cursor of the published event.</returns>
    /// <exception cref="System.InvalidOperationException">No collection has that name.</exception>
    /// <exception cref="ChangeRefusedException">The changes do not apply to the collection's state; nothing changed.</exception>
    ValueTask<Cursor> PublishAsync(string collection, ChangeSet changes, CancellationToken cancellationToken = default);
}
