using System;
using System.IO;
using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.Transports.WebSockets.Tests;

/// <summary>
/// A server and a client WebSocket joined by two in-memory pipes, no sockets (as ASP.NET Core's WebSocketPair). The
/// pipes pause a writer at <c>pauseBytes</c> unread bytes, so a client that stops reading stalls the server's sends.
/// </summary>
internal sealed class InMemoryWebSocketPair : IDisposable
{
    private DuplexStream? _serverStream;

    private InMemoryWebSocketPair(WebSocket server, WebSocket client, WebSocketConnectionStream? connection)
    {
        Server = server;
        Client = client;
        Connection = connection;
    }

    public WebSocket Server { get; }

    public WebSocket Client { get; }

    /// <summary>The server's connection when made with <c>upgraded: true</c> (as the endpoint's own upgrade), else null.</summary>
    public WebSocketConnectionStream? Connection { get; }

    /// <summary>The most bytes the server handed its stream in one write: what its side held of a frame at once.</summary>
    public int LargestServerWrite => _serverStream!.LargestWrite;

    /// <summary>The first byte of each write the server made, in order (for a frame's header, its FIN bit and opcode).</summary>
    public byte[] ServerWriteFirstBytes
    {
        get
        {
            lock (_serverStream!.FirstBytes)
            {
                return [.. _serverStream.FirstBytes];
            }
        }
    }

    public static InMemoryWebSocketPair Create(long pauseBytes = 64 * 1024, bool upgraded = false)
    {
        var options = new PipeOptions(pauseWriterThreshold: pauseBytes, resumeWriterThreshold: pauseBytes / 2, useSynchronizationContext: false);
        var toClient = new Pipe(options);
        var toServer = new Pipe(options);
        var serverStream = new DuplexStream(toServer.Reader, toClient.Writer);
        var connection = upgraded ? new WebSocketConnectionStream(serverStream) : null;
        var server = WebSocket.CreateFromStream((Stream?)connection ?? serverStream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        connection?.Socket = server;
        var client = WebSocket.CreateFromStream(new DuplexStream(toClient.Reader, toServer.Writer), new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
        return new InMemoryWebSocketPair(server, client, connection) { _serverStream = serverStream };
    }

    /// <summary>
    /// Runs a session on the server side: over the connection, pre-framed, when the pair was made upgraded. Without a
    /// cursor it waits for a resume message (as a stream opened with ?resume=message), so a test's first message is
    /// the first thing the server reads.
    /// </summary>
    public Task RunSessionAsync(Rocket.Live.LiveCollection collection, string? cursor, WebSocketTransportOptions options, CancellationToken cancellationToken = default) =>
        Connection is not null
            ? WebSocketSession.RunUpgradedAsync(Server, Connection, collection, cursor, awaitResume: cursor is null, options, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, cancellationToken)
            : cursor is null
                ? WebSocketSession.RunAwaitingResumeAsync(Server, collection, options, cancellationToken: cancellationToken)
                : WebSocketSession.RunAsync(Server, collection, cursor, options, cancellationToken: cancellationToken);

    public void Dispose()
    {
        Server.Dispose();
        Client.Dispose();
    }

    private sealed class DuplexStream(PipeReader reader, PipeWriter writer) : Stream
    {
        private readonly Stream _input = reader.AsStream();
        private readonly Stream _output = writer.AsStream();

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => _output.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => _output.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => _input.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _input.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _input.ReadAsync(buffer, offset, count, cancellationToken);

        public int LargestWrite { get; private set; }

        public System.Collections.Generic.List<byte> FirstBytes { get; } = [];

        private void Record(ReadOnlySpan<byte> bytes)
        {
            LargestWrite = Math.Max(LargestWrite, bytes.Length);
            if (!bytes.IsEmpty)
            {
                lock (FirstBytes)
                {
                    FirstBytes.Add(bytes[0]);
                }
            }
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            Record(buffer.AsSpan(offset, count));
            _output.Write(buffer, offset, count);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Record(buffer.Span);
            return _output.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Record(buffer.AsSpan(offset, count));
            return _output.WriteAsync(buffer, offset, count, cancellationToken);
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                // As a closed socket would: a read in progress ends now (a WebSocket disposes its stream when aborted).
                reader.CancelPendingRead();
                reader.Complete();
                writer.Complete();
            }

            base.Dispose(disposing);
        }
    }
}
