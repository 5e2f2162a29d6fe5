using System;
using System.Threading;
using System.Threading.Tasks;
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
/// The stream ends cleanly when the client goes or the server stops, so clients reconnect and resume.
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

    public async Task ExecuteAsync(HttpContext context, LiveCollection collection)
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
        SseFrameWriter.WriteRetry(output, _options.RetryInterval);
        SseFrameWriter.WriteComment(output, "rocket");

        // No linked token source per connection: the subscription ends on the request's own token, and a server stop
        // disposes it through one registration (an idle connection keeps fewer objects alive).
        var aborted = context.RequestAborted;
        try
        {
            await output.FlushAsync(aborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return; // the client went before the stream started: a normal end
        }

        var cursor = GetCursor(context.Request);
        var subscription = collection.Subscribe(new SseTransport(output), cursor, aborted);
        await using (subscription.ConfigureAwait(false))
        {
            var stopping = _lifetime?.ApplicationStopping ?? CancellationToken.None;
            await using (stopping.UnsafeRegister(static state => ((Subscription)state!).Dispose(), subscription).ConfigureAwait(false))
            {
                // Completes when the client goes, the server stops or Rocket closes the stream.
                await subscription.Completion.ConfigureAwait(false);
            }
        }
    }

    private static string? GetCursor(HttpRequest request)
    {
        var header = request.Headers[RocketHeaders.LastEventId];
        if (!StringValues.IsNullOrEmpty(header))
        {
            return header[0];
        }

        var query = request.Query["lastEventId"];
        return StringValues.IsNullOrEmpty(query) ? null : query[0];
    }
}
