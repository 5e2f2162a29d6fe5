using System;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Rocket.AspNetCore;

namespace Rocket;

/// <summary>Maps Rocket's live collections next to an app's own endpoints.</summary>
public static class RocketEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the live collection <paramref name="collection"/> (registered with <c>AddRocket().AddCollection(...)</c>) at
    /// <paramref name="pattern"/>, by default <c>/&lt;collection&gt;</c>:
    /// <list type="bullet">
    /// <item><c>GET</c> the collection: the stream of a registered transport when the request asks for one
    /// (<c>Accept: text/event-stream</c>, a WebSocket upgrade), else the document as JSON, list form by default and
    /// keyed form with <c>?form=keyed</c>, with its cursor in a <c>Last-Event-ID</c> header; 406 otherwise.</item>
    /// <item><c>CONNECT</c> the collection: a WebSocket over HTTP/2 (RFC 8441 extended CONNECT, which is how a browser
    /// opens a WebSocket on an HTTP/2 connection); any other CONNECT is answered 405.</item>
    /// <item>with <paramref name="scaffold"/> (the default), the REST scaffold: <c>POST</c> the collection,
    /// <c>GET</c>, <c>PUT</c>, <c>PATCH</c> (<c>application/json-patch+json</c>) and <c>DELETE</c> <c>/{id}</c>,
    /// over the registered <see cref="IRecordStore"/> or, if none, the collection itself.</item>
    /// </list>
    /// </summary>
    /// <returns>The route group, to add authorization, CORS or other conventions to.</returns>
    /// <exception cref="InvalidOperationException">The collection is not registered.</exception>
    public static RouteGroupBuilder MapRocketCollection(this IEndpointRouteBuilder endpoints, string collection, string? pattern = null, bool scaffold = true)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(collection);
        var handlers = new CollectionEndpoints(endpoints.ServiceProvider, collection);
        var group = endpoints.MapGroup(pattern ?? "/" + Uri.EscapeDataString(collection));
        group.MapGet(string.Empty, handlers.GetCollectionAsync);
        group.MapMethods(string.Empty, [HttpMethods.Connect], handlers.ConnectCollectionAsync);
        if (scaffold)
        {
            group.MapPost(string.Empty, handlers.CreateAsync);
            group.MapGet("/{id}", (HttpContext context, string id) => handlers.GetRecordAsync(context, id));
            group.MapPut("/{id}", (HttpContext context, string id) => handlers.ReplaceAsync(context, id));
            group.MapPatch("/{id}", (HttpContext context, string id) => handlers.PatchAsync(context, id));
            group.MapDelete("/{id}", (HttpContext context, string id) => handlers.DeleteAsync(context, id));
        }

        return group;
    }
}
