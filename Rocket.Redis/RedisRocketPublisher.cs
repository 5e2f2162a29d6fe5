using System;
using System.Threading;
using System.Threading.Tasks;
using Rocket.Live;

namespace Rocket.Redis;

// Commits each change set in Redis, from where every node's replica (this one's first) gets it.
internal sealed class RedisRocketPublisher(RedisReplicaService service) : IRocketPublisher
{
    public ValueTask<Cursor> PublishAsync(string collection, ChangeSet changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(changes);
        return service.GetReplica(collection).CommitAsync(changes, cancellationToken);
    }
}
