using System;
using System.Threading;
using System.Threading.Tasks;
using Rocket.Live;

namespace Rocket.Redis;

// Commits each change set in Redis, from where every node's replica (this one's first) gets it: a registered
// collection's, or a family instance's (loaded on this node first if it does not hold it).
internal sealed class RedisRocketPublisher(RedisReplicaService service) : IRocketPublisher
{
    public async ValueTask<Cursor> PublishAsync(string collection, ChangeSet changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(changes);
        var replica = await service.GetReplicaAsync(collection, cancellationToken).ConfigureAwait(false);
        // A collection fed by an outside source (a table) refuses the app's own writes.
        return await replica.CommitFromAppAsync(changes, cancellationToken).ConfigureAwait(false);
    }
}
