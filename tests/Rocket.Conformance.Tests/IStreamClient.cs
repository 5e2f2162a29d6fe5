using System;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.Conformance.Tests;

/// <summary>What a stream delivers, whatever the transport.</summary>
public enum StreamMessageKind
{
    /// <summary>An event: a cursor and a JSON Patch array.</summary>
    Patch,

    /// <summary>Something that keeps the connection alive (an SSE comment, a ping the client can see).</summary>
    Heartbeat,

    /// <summary>The server closed the stream and said why.</summary>
    Close,

    /// <summary>The stream ended without a reason.</summary>
    End,
}

/// <summary>One message of a stream; <see cref="Cursor"/> and <see cref="Patch"/> are set for <see cref="StreamMessageKind.Patch"/>.</summary>
public sealed record StreamMessage(StreamMessageKind Kind, string? Cursor = null, string? Patch = null, string? Reason = null);

/// <summary>A transport's client, as small as the conformance suite needs.</summary>
public interface IStreamClient : IAsyncDisposable
{
    /// <summary>The next message; <see cref="StreamMessageKind.End"/> forever once the stream is over.</summary>
    Task<StreamMessage> ReadAsync(CancellationToken cancellationToken);
}

/// <summary>How the suite reaches one transport.</summary>
public interface ITransportUnderTest
{
    /// <summary>A short name for messages.</summary>
    string Name { get; }

    /// <summary>Whether the client can observe heartbeats (SignalR's keep-alive is invisible to hub code).</summary>
    bool HeartbeatsVisible { get; }

    /// <summary>Registers the transport (<c>AddSseTransport()</c> and so on).</summary>
    void Register(IRocketBuilder rocket);

    /// <summary>Maps what the transport needs beyond the collection (middleware, a hub).</summary>
    void Map(Microsoft.AspNetCore.Builder.WebApplication app);

    /// <summary>Opens a stream of <paramref name="collection"/>, from <paramref name="cursor"/> when given.</summary>
    Task<IStreamClient> ConnectAsync(Uri baseAddress, string collection, string? cursor, CancellationToken cancellationToken);

    /// <summary>Opens a stream and never reads it, so the server's writes back up: a stalled subscriber.</summary>
    Task<IAsyncDisposable> ConnectStalledAsync(Uri baseAddress, string collection, CancellationToken cancellationToken);
}
