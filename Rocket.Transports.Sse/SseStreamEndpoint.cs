using System;
using System.IO.Pipelines;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using Rocket.AspNetCore;
using Rocket.Live;

namespace Rocket.Transports.Sse;

/// <summary>
/// Serves a collection's stream as Server-Sent Events to requests that accept <c>text/event-stream</c>, over HTTP/1.1
/// and HTTP/2 alike.
/// </summary>
/// <remarks>
/// The response is <c>text/event-stream</c> with <c>Cache-Control: no-cache</c> and <c>X-Accel-Buffering: no</c> (so
/// nginx and its kin pass events through at once), response buffering disabled and compression off. It starts with
/// <c>retry:</c> and a comment, then the events. The cursor to resume from is the <c>Last-Event-ID</c> header, else the
/// <c>lastEventId</c> query parameter (a browser's EventSource cannot set headers on its first request); the header wins.
/// The stream ends cleanly when the client goes or the server stops, so clients reconnect and resume. A client that goes
/// is noticed at once (on HTTP/1.x by its connection's closed token, see <c>ClientGone</c>), not at the next heartbeat.
/// </remarks>
internal sealed class SseStreamEndpoint : IRocketStreamEndpoint
{
    private readonly SseTransportOptions _options;
    private readonly IHostApplicationLifetime? _lifetime;

    public SseStreamEndpoint(IOptions<SseTransportOptions> options, IHostApplicationLifetime? lifetime = null)
    {
        _options = options.Value;
        _lifetime = lifetime;
    }

    public string Name => "text/event-stream";

    public bool CanAccept(HttpContext context)
    {
        if (!HttpMethods.IsGet(context.Request.Method))
        {
            return false;
        }

        var accept = context.Request.Headers.Accept;
        if (StringValues.IsNullOrEmpty(accept) || !MediaTypeHeaderValue.TryParseList(accept, out var types))
        {
            return false;
        }

        foreach (var type in types)
        {
            if (type.Quality is not 0 && type.MediaType.Equals("text/event-stream", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    public Task ExecuteAsync(HttpContext context, LiveCollection collection)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        if (context.Features.Get<IHttpsCompressionFeature>() is { } compression)
        {
            compression.Mode = HttpsCompressionMode.DoNotCompress;
        }

        var output = response.BodyWriter;
        // Each stream its own delay, so the clients of a server that stops do not all come back in the same instant.
        SseFrameWriter.WriteRetry(output, _options.NextRetry());
        SseFrameWriter.WriteComment(output, "rocket");

        // No linked token source per connection: the subscription ends when the client goes or the host stops, one
        // registration on each token, which it disposes itself when it ends.
        var clientGone = ClientGone(context);
        var flush = output.FlushAsync(clientGone);
        if (!flush.IsCompletedSuccessfully)
        {
            return SubscribeAfterFlushAsync(flush, context, collection, clientGone);
        }

        _ = flush.Result;
        // The request's task is the subscription's own: no state machine of the endpoint stays alive with an idle
        // connection (Completion never faults, and the loop has unregistered when it completes).
        try
        {
            return Subscribe(context, collection, clientGone).Completion;
        }
        catch (SubscriberLimitException e)
        {
            return CloseOverLimitAsync(context, e);
        }
    }

    // A request admitted at the door but refused at subscribe (it raced others past the limit): the stream has started,
    // so the client is told in it, and reconnects after its retry interval.
    private static async Task CloseOverLimitAsync(HttpContext context, SubscriberLimitException refused)
    {
        var transport = new SseTransport(context.Response.BodyWriter);
        await transport.CloseAsync(new CloseReason(CloseStatus.ShuttingDown, refused.Message), context.RequestAborted).ConfigureAwait(false);
    }

    // The token that says the client went. On HTTP/1.x the stream is its connection's only request for as long as it
    // lasts, so the connection's own closed token says it as soon as the request's would: Kestrel makes that token
    // with every connection and registers on it already, while reading RequestAborted makes it create a token source and
    // a registration list for the request (112 B kept per idle stream). Kestrel signals it when the connection's
    // receive side ends (the client closed or reset it) and after any abort, the same events that abort the request.
    // HTTP/2 and HTTP/3 multiplex requests on one connection (a stream can be reset alone), and other servers may not
    // offer the feature: there it is the request's token.
    private static CancellationToken ClientGone(HttpContext context)
    {
        var protocol = context.Request.Protocol;
        if ((HttpProtocol.IsHttp11(protocol) || HttpProtocol.IsHttp10(protocol))
            && context.Features.Get<IConnectionLifetimeFeature>() is { ConnectionClosed.CanBeCanceled: true } connection)
        {
            return connection.ConnectionClosed;
        }

        return context.RequestAborted;
    }

    private async Task SubscribeAfterFlushAsync(ValueTask<FlushResult> flush, HttpContext context, LiveCollection collection, CancellationToken clientGone)
    {
        try
        {
            await flush.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return; // the client went before the stream started: a normal end
        }

        Subscription subscription;
        try
        {
            subscription = Subscribe(context, collection, clientGone);
        }
        catch (SubscriberLimitException e)
        {
            await CloseOverLimitAsync(context, e).ConfigureAwait(false);
            return;
        }

        await subscription.Completion.ConfigureAwait(false);
    }

    private Subscription Subscribe(HttpContext context, LiveCollection collection, CancellationToken clientGone)
    {
        var subscription = collection.Subscribe(
            new SseTransport(context.Response.BodyWriter, _options.WriteTimeout, context.Abort),
            GetCursor(context.Request),
            clientGone,
            _lifetime?.ApplicationStopping ?? CancellationToken.None);

        // A stream lives no longer than the authentication it was opened with.
        StreamAuthentication.CloseWhenExpired(context, subscription);
        return subscription;
    }

    private static string? GetCursor(HttpRequest request)
    {
        var header = request.Headers[RocketHeaders.LastEventId];
        if (!StringValues.IsNullOrEmpty(header))
        {
            return header[0];
        }

        // Only a request with a query string reads it: the parsed query is kept with the request for its whole life.
        if (!request.QueryString.HasValue)
        {
            return null;
        }

        var query = request.Query["lastEventId"];
        return StringValues.IsNullOrEmpty(query) ? null : query[0];
    }
}
