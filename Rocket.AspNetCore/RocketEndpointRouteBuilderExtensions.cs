using System;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Rocket.AspNetCore;

namespace Rocket;

/// <summary>Maps Rocket's live collections next to an app's own endpoints.</summary>
public static class RocketEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the live collection <paramref name="collection"/> (registered with <c>AddRocket().AddCollection(...)</c>), or
    /// the collection family with that template (<c>AddCollectionFamily("rooms/{room}/messages")</c>, mapped at
    /// <c>/rooms/{room}/messages</c>, an instance per route value created on first use), at <paramref name="pattern"/>,
    /// by default <c>/&lt;collection&gt;</c>. A policy set with <c>RequireAuthorization(collection, policy)</c> is
    /// checked on every request below (401/403 problem+json, nothing created or changed):
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
        var handlers = new CollectionRoute(endpoints.ServiceProvider, collection);
        var isFamily = endpoints.ServiceProvider.GetRequiredService<CollectionRegistry>().TryGetFamily(collection, out _);
        var group = endpoints.MapGroup(pattern ?? "/" + (isFamily ? collection.Trim('/') : Uri.EscapeDataString(collection)));
        group.WithTags(collection);

        // Handlers are passed as Delegate so the endpoints carry their method (ApiExplorer lists only those), and each
        // declares its bodies and answers for the app's OpenAPI document (AddOpenApi/MapOpenApi).
        group.MapGet(string.Empty, (Delegate)handlers.GetCollectionAsync)
            .WithName($"{collection}.get").WithSummary($"The {collection} collection: the document with its cursor (Last-Event-ID), or its live stream")
            .Produces<JsonElement>(StatusCodes.Status200OK, "application/json", "text/event-stream")
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status406NotAcceptable, StatusCodes.Status503ServiceUnavailable);
        group.MapMethods(string.Empty, [HttpMethods.Connect], handlers.ConnectCollectionAsync).ExcludeFromDescription();
        if (scaffold)
        {
            group.MapPost(string.Empty, (Delegate)handlers.CreateAsync)
                .WithName($"{collection}.create").WithSummary($"Creates a record in {collection}; the server assigns its id")
                .Accepts<JsonElement>("application/json")
                .Produces<JsonElement>(StatusCodes.Status201Created, "application/json")
                .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status409Conflict, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType, StatusCodes.Status503ServiceUnavailable);
            group.MapGet("/{id}", (HttpContext context, string id) => handlers.GetRecordAsync(context, id))
                .WithName($"{collection}.getRecord").WithSummary($"One record of {collection}, with its ETag")
                .Produces<JsonElement>(StatusCodes.Status200OK, "application/json")
                .Produces(StatusCodes.Status304NotModified)
                .ProducesProblems(StatusCodes.Status404NotFound);
            group.MapPut("/{id}", (HttpContext context, string id) => handlers.ReplaceAsync(context, id))
                .WithName($"{collection}.replace").WithSummary($"Replaces a record of {collection} whole (If-Match for a conditional write)")
                .Accepts<JsonElement>("application/json")
                .Produces<JsonElement>(StatusCodes.Status200OK, "application/json")
                .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict, StatusCodes.Status412PreconditionFailed, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType, StatusCodes.Status503ServiceUnavailable);
            group.MapPatch("/{id}", (HttpContext context, string id) => handlers.PatchAsync(context, id))
                .WithName($"{collection}.patch").WithSummary($"Applies an RFC 6902 JSON Patch to a record of {collection}, all or nothing")
                .Accepts<JsonElement>("application/json-patch+json")
                .Produces<JsonElement>(StatusCodes.Status200OK, "application/json")
                .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict, StatusCodes.Status412PreconditionFailed, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType, StatusCodes.Status503ServiceUnavailable);
            // The Accepts metadata above describes the bodies, and routing would answer any other media type with a bare
            // 415 of its own; these twins, below them in order and out of the document, take those requests so the
            // handlers answer with Rocket's problem (which names the media type expected).
            OtherMediaTypes(group.MapPost(string.Empty, (Delegate)handlers.CreateAsync));
            OtherMediaTypes(group.MapPut("/{id}", (HttpContext context, string id) => handlers.ReplaceAsync(context, id)));
            OtherMediaTypes(group.MapPatch("/{id}", (HttpContext context, string id) => handlers.PatchAsync(context, id)));
            group.MapDelete("/{id}", (HttpContext context, string id) => handlers.DeleteAsync(context, id))
                .WithName($"{collection}.delete").WithSummary($"Deletes a record of {collection} (If-Match for a conditional delete)")
                .Produces(StatusCodes.Status204NoContent)
                .ProducesProblems(StatusCodes.Status404NotFound, StatusCodes.Status412PreconditionFailed, StatusCodes.Status503ServiceUnavailable);
        }

        return group;
    }

    // The problem answers of an endpoint, each application/problem+json, for the OpenAPI document.
    private static RouteHandlerBuilder ProducesProblems(this RouteHandlerBuilder endpoint, params int[] statuses)
    {
        foreach (var status in statuses)
        {
            endpoint.ProducesProblem(status);
        }

        return endpoint;
    }

    private static void OtherMediaTypes(RouteHandlerBuilder endpoint) =>
        endpoint.ExcludeFromDescription().Add(static builder => ((RouteEndpointBuilder)builder).Order = 1);
}
