using System;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using Rocket.Live;

namespace Rocket.AspNetCore;

/// <summary>
/// The URL of one mapped collection: <c>GET</c> answers with a registered stream when the request asks for one, else
/// with the document; <c>CONNECT</c> opens a WebSocket over HTTP/2. The records below it are <see cref="RecordEndpoints"/>.
/// </summary>
internal sealed class CollectionEndpoints(LiveCollection collection, CollectionHttpServices services)
{
    /// <summary><c>GET /collection</c>: a registered stream if the request asks for one, else the document, else 406.</summary>
    public Task GetAsync(HttpContext context) => TryStream(context) ?? GetDocumentAsync(context);

    /// <summary>
    /// An HTTP/2 WebSocket (RFC 8441): the request is a <c>CONNECT</c> with <c>:protocol websocket</c>, which ASP.NET
    /// Core's WebSocket middleware presents as a WebSocket request. Any other <c>CONNECT</c> is not for this URL.
    /// </summary>
    public Task ConnectAsync(HttpContext context)
    {
        if (context.WebSockets.IsWebSocketRequest && TryStream(context) is { } stream)
        {
            return stream;
        }

        context.Response.Headers.Allow = HttpMethods.Get;
        return Problem.WriteAsync(context, StatusCodes.Status405MethodNotAllowed, "method-not-allowed", "Method Not Allowed",
            "CONNECT opens a WebSocket over HTTP/2 (RFC 8441) here, and this request is not one, or the WebSocket transport is not registered; read the collection with GET.");
    }

    // The first registered stream that accepts the request, running; null when none does. The stream's own task, not
    // awaited here: a state machine around it would stay alive as long as the connection (136 bytes per idle subscriber).
    private Task? TryStream(HttpContext context)
    {
        foreach (var stream in services.Streams)
        {
            if (stream.CanAccept(context))
            {
                // Admission before anything of the stream is written (for a WebSocket, before the upgrade); Subscribe
                // checks again, for requests that race past this one together.
                return collection.CanSubscribe ? stream.ExecuteAsync(context, collection) : OverLimitAsync(context);
            }
        }

        return null;
    }

    // 503 with a Retry-After drawn between 1 and 5 s: the clients a storm turned away come back spread out, not at once.
    private Task OverLimitAsync(HttpContext context)
    {
        context.Response.Headers.RetryAfter = Random.Shared.Next(1, 6).ToString(CultureInfo.InvariantCulture);
        return Problem.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "subscriber-limit", "Too many subscribers",
            $"Collection '{collection.Name}' (or this server) has as many subscribers as it admits; try again after the Retry-After delay.");
    }

    private async Task GetDocumentAsync(HttpContext context)
    {
        if (!AcceptsJson(context.Request))
        {
            var offered = string.Join(", ", services.Streams.Select(static s => s.Name).Prepend("application/json"));
            await Problem.WriteAsync(context, StatusCodes.Status406NotAcceptable, "not-acceptable", "Not Acceptable",
                $"This URL serves {offered}; the Accept header asks for none of them.").ConfigureAwait(false);
            return;
        }

        var keyed = false;
        var form = context.Request.Query["form"];
        if (form.Count > 1 || (form.Count == 1 && !(keyed = form[0] == "keyed") && form[0] != "list"))
        {
            await Problem.WriteAsync(context, StatusCodes.Status400BadRequest, "invalid-form", "Invalid form",
                "The form query parameter is 'list' (the default, {\"<collection>\":[...]}) or 'keyed' ({\"<collection>\":{\"<id>\":...}}).").ConfigureAwait(false);
            return;
        }

        var snapshot = collection.GetSnapshot();
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        response.Headers[RocketHeaders.LastEventId] = snapshot.Cursor.ToString();
        response.Headers.CacheControl = "no-cache";
        if (keyed)
        {
            snapshot.WriteKeyed(response.BodyWriter);
        }
        else
        {
            snapshot.WriteList(response.BodyWriter);
        }

        await response.BodyWriter.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    private static bool AcceptsJson(HttpRequest request)
    {
        var accept = request.Headers.Accept;
        if (StringValues.IsNullOrEmpty(accept))
        {
            return true;
        }

        if (!MediaTypeHeaderValue.TryParseList(accept, out var types))
        {
            return false;
        }

        foreach (var type in types)
        {
            if (type.Quality is not 0 && (type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
                || type.MediaType.Equals("application/*", StringComparison.OrdinalIgnoreCase)
                || type.MediaType.Equals("*/*", StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }
        }

        return false;
    }
}
