using System;
using System.Threading;
using System.Threading.Tasks;
using Rocket.Live;

namespace Rocket;

// The in-process publisher: applies the change set to the registered collection, synchronously under its writer lock.
internal sealed class RocketPublisher(CollectionRegistry registry) : IRocketPublisher
{
    public ValueTask<Cursor> PublishAsync(string collection, ChangeSet changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(changes);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<Cursor>(cancellationToken);
        }

        return new ValueTask<Cursor>(registry.GetCollection(collection).Apply(changes));
    }
}
