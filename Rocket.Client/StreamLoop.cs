using System;
using System.IO;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.Client;

/// <summary>
/// The client's receive loop: reads a stream and applies its events until it ends, then reconnects from the copy's
/// cursor (after a backoff, or at once after a refetch) until the client stops. An outage is reported once when it
/// starts and once when a stream is open again, however many attempts it took.
/// </summary>
internal sealed class StreamLoop
{
    private readonly LiveCollectionClient _client;
    private readonly CollectionCopy _copy;
    private readonly LiveCollectionClientOptions _options;
    private readonly ReconnectBackoff _backoff;

    public StreamLoop(LiveCollectionClient client, CollectionCopy copy, LiveCollectionClientOptions options)
    {
        _client = client;
        _copy = copy;
        _options = options;
        _backoff = new ReconnectBackoff(options);
    }

    public async Task RunAsync(IStreamConnection connection, CancellationToken stopping)
    {
        while (true)
        {
            StreamEnd end;
            try
            {
                end = await ReadUntilEndAsync(connection, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                await DisposeQuietlyAsync(connection).ConfigureAwait(false);
                return;
            }

            _backoff.UseServerRetry(connection.RetryInterval);
            await DisposeQuietlyAsync(connection).ConfigureAwait(false);
            if (stopping.IsCancellationRequested)
            {
                return;
            }

            if (end.Received)
            {
                _backoff.Reset();
            }

            _client.OnStreamLost(end.Reason, end.Failure);
            if (await ReconnectAsync(immediately: end.Refetched, stopping).ConfigureAwait(false) is not { } next)
            {
                return;
            }

            connection = next;
            _client.OnStreamOpened();
        }
    }

    // Tries until a stream opens or the client stops (then null). A failed attempt is not reported: the outage was,
    // when it began, and its end will be.
    private async Task<IStreamConnection?> ReconnectAsync(bool immediately, CancellationToken stopping)
    {
        while (true)
        {
            try
            {
                if (!immediately)
                {
                    await Task.Delay(_backoff.Next(), stopping).ConfigureAwait(false);
                }

                immediately = false;
                return await _client.ConnectAsync(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return null;
            }
#pragma warning disable CA1031 // Whatever failed, the next attempt follows the backoff.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }

    // Reads and applies until the stream ends, and says how it ended. Throws only when the client stops.
    private async Task<StreamEnd> ReadUntilEndAsync(IStreamConnection connection, CancellationToken stopping)
    {
        using var read = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        using var watchdog = IdleWatchdog.Start(connection, _options.IdleTimeout, read);
        var received = false;
        try
        {
            while (await connection.ReadAsync(read.Token).ConfigureAwait(false) is { } item)
            {
                received = true;
                if (_copy.TryApply(item, out var change, out var failure))
                {
                    _client.RaiseChanged(change!);
                    continue;
                }

                // Never keep a wrong copy: fetch the document and its cursor, say so, and stream again from there.
                await RefetchAsync(failure!, stopping).ConfigureAwait(false);
                return new StreamEnd(Received: true, Refetched: true, "refetched the document after a patch failed to apply", null);
            }

            return new StreamEnd(received, Refetched: false, connection.CloseReason ?? "the server ended the stream", null);
        }
        catch (OperationCanceledException) when (watchdog?.Fired == true && !stopping.IsCancellationRequested)
        {
            return new StreamEnd(received, Refetched: false, $"no data for {_options.IdleTimeout.TotalSeconds:0.###} s: the connection is taken for dead", null);
        }
        catch (Exception e) when (!stopping.IsCancellationRequested)
        {
            // The connection failed, or a Changed handler threw: the stream ends, and the client resumes after the last
            // change it applied.
            return new StreamEnd(received, Refetched: false, e.Message, e);
        }
    }

    private async Task RefetchAsync(string failure, CancellationToken stopping)
    {
        try
        {
            var (document, cursor) = await _client.FetchDocumentAsync(stopping).ConfigureAwait(false);
            _client.RaiseChanged(_copy.Replace(document, cursor, failure));
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            // No GET: stream again with no cursor, and the server starts with a reset.
            _copy.ForgetCursor();
        }
    }

    private static async ValueTask DisposeQuietlyAsync(IStreamConnection connection)
    {
        try
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException or ObjectDisposedException or System.Net.WebSockets.WebSocketException)
        {
            // The connection is being thrown away: how it failed to close changes nothing.
        }
    }

    private readonly record struct StreamEnd(bool Received, bool Refetched, string Reason, Exception? Failure);
}
