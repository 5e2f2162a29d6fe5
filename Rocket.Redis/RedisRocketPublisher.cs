using System;
using System.Threading;
using System.Threading.Tasks;
using Rocket.Live;

namespace Rocket.Redis;

// Commits each change set in Redis, from where every node's replica (this one's first) gets it.
// A collection that is not in Redis (a family instance, which lives in this node's memory) is written here directly.
internal sealed class RedisRocketPublisher(RedisReplicaService service, CollectionRegistry registry) : IRocketPublisher
{
    public ValueTask<Cursor> PublishAsync(string collection, ChangeSet changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(changes);
        // The registered collections live in Redis; family instances do not.
        if (registry.TryGetRegisteredCollection(collection, out _))
        {
            // A collection fed by an outside source (a table) refuses the app's own writes.
            return service.GetReplica(collection).CommitFromAppAsync(changes, cancellationToken);
        }

        return ValueTask.FromResult(registry.GetCollection(collection).Apply(changes));
    }
}
