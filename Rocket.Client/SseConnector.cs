using System;
using System.Collections.Generic;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.Client;

/// <summary>
/// Server-Sent Events over <see cref="HttpClient"/> and <see cref="SseParser"/>: <c>GET</c> the collection with
/// <c>Accept: text/event-stream</c> and the cursor in <c>Last-Event-ID</c>. The default transport.
/// </summary>
public sealed class SseConnector : IStreamConnector
{
    /// <inheritdoc/>
    public string Name => "sse";

    /// <inheritdoc/>
    public ValueTask<IStreamConnection> ConnectAsync(StreamRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ConnectCoreAsync(request, cancellationToken);
    }

    private static async ValueTask<IStreamConnection> ConnectCoreAsync(StreamRequest request, CancellationToken cancellationToken)
    {
        using var message = await ClientRequests.CreateAsync(request.CollectionUri, request.Options, cancellationToken).ConfigureAwait(false);
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (request.LastEventId is { } cursor)
        {
            message.Headers.TryAddWithoutValidation("Last-Event-ID", cursor);
        }

        request.Options.ConfigureRequest?.Invoke(message);
        var response = await request.HttpClient.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        try
        {
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"The stream request to {request.CollectionUri} was refused: {(int)response.StatusCode} {response.ReasonPhrase}.", null, response.StatusCode);
            }

            if (response.Content.Headers.ContentType?.MediaType is not "text/event-stream")
            {
                throw new HttpRequestException($"{request.CollectionUri} answered with {response.Content.Headers.ContentType?.MediaType ?? "no content type"}, not an event stream: is SSE registered on the server?");
            }

            var stream = new ActivityStream(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
            return new Connection(response, stream);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    private sealed class Connection : IStreamConnection
    {
        private readonly HttpResponseMessage _response;
        private readonly ActivityStream _stream;
        private readonly SseParser<byte[]> _parser;
        private readonly CancellationTokenSource _disposed = new();
        private IAsyncEnumerator<SseItem<byte[]>>? _items;

        public Connection(HttpResponseMessage response, ActivityStream stream)
        {
            _response = response;
            _stream = stream;

            // The item is the data copied out of the parser's buffer, which it reuses.
            _parser = SseParser.Create(stream, static (_, data) => data.ToArray());
        }

        public string? CloseReason { get; private set; }

        public TimeSpan? RetryInterval => _parser.ReconnectionInterval == Timeout.InfiniteTimeSpan ? null : _parser.ReconnectionInterval;

        public long? LastActivityTimestamp => _stream.LastActivity;

        public async ValueTask<StreamEvent?> ReadAsync(CancellationToken cancellationToken = default)
        {
            // The enumerator takes one token for its life: the connection's own, canceled on dispose. A read canceled by
            // the caller is ended by disposing the connection, which is what the client does.
            _items ??= _parser.EnumerateAsync(_disposed.Token).GetAsyncEnumerator(_disposed.Token);
            using var registration = cancellationToken.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), _disposed);
            while (await _items.MoveNextAsync().ConfigureAwait(false))
            {
                var item = _items.Current;
                switch (item.EventType)
                {
                    case "patch":
                        return new StreamEvent(item.EventId, item.Data);
                    case "close":
                        CloseReason = DescribeClose(item.Data);
                        return null;
                    default:
                        // Unknown event types are for future versions: ignored, as the SSE spec's EventSource does.
                        break;
                }
            }

            return null;
        }

        public async ValueTask DisposeAsync()
        {
            await _disposed.CancelAsync().ConfigureAwait(false);
            if (_items is not null)
            {
                try
                {
                    await _items.DisposeAsync().ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }

            await _stream.DisposeAsync().ConfigureAwait(false);
            _response.Dispose();
            _disposed.Dispose();
        }

        private static string DescribeClose(byte[] data)
        {
            try
            {
                using var document = JsonDocument.Parse(data);
                var status = document.RootElement.TryGetProperty("status", out var s) ? s.GetString() : null;
                var reason = document.RootElement.TryGetProperty("reason", out var r) ? r.GetString() : null;
                return $"{status}: {reason}";
            }
            catch (JsonException)
            {
                return Encoding.UTF8.GetString(data);
            }
        }
    }
}
