using System.Threading;
using System.Threading.Tasks;

namespace Rocket.Client;

/// <summary>
/// A transport's client side: opens one stream of a collection from a cursor. <see cref="LiveCollectionClient"/> owns
/// everything else (applying, reconnecting, backoff, the idle timeout), so a connector stays small.
/// </summary>
public interface IStreamConnector
{
    /// <summary>The transport's name, for messages: <c>sse</c>, <c>websocket</c>, <c>signalr</c>.</summary>
    string Name { get; }

    /// <summary>
    /// Opens a stream of <see cref="StreamRequest.CollectionUri"/> after <see cref="StreamRequest.LastEventId"/> (or from a
    /// reset when it is null). Returns once the server has accepted the stream; throws if it refused or could not be reached.
    /// </summary>
    ValueTask<IStreamConnection> ConnectAsync(StreamRequest request, CancellationToken cancellationToken = default);
}
