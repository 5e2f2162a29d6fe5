using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Rocket.Live;

namespace Rocket.AspNetCore;

/// <summary>
/// The endpoints of one mapped collection or family: finds the collection a request is for (a family's instance by
/// its route values, created on first use), checks the collection's authorization policy, and hands the request to
/// that collection's <see cref="CollectionEndpoints"/> or <see cref="RecordEndpoints"/>. A request refused here creates
/// nothing and changes nothing.
/// </summary>
internal sealed class CollectionRoute
{
    private readonly CollectionHttpServices _services;
    private readonly Endpoints? _fixed;
    private readonly CollectionFamily? _family;
    private readonly CollectionAuthorizer? _authorizer;
    private readonly CollectionAccess _access;
    private readonly ConditionalWeakTable<LiveCollection, Endpoints> _instances = [];

    // The app's container is read here, once, when the collection is mapped; the endpoints get what they use.
    public CollectionRoute(IServiceProvider services, string collectionOrTemplate)
    {
        _services = CollectionHttpServices.Create(services);
        var registry = services.GetRequiredService<CollectionRegistry>();
        if (registry.TryGetFamily(collectionOrTemplate, out var family))
        {
            _family = family;
        }
        else
        {
            _fixed = new Endpoints(registry.GetCollection(collectionOrTemplate), _services);
        }

        var authorizer = services.GetService<CollectionAuthorizer>();
        _authorizer = authorizer?.IsGuarded(collectionOrTemplate) == true ? authorizer : null;
        _access = services.GetService<CollectionAccess>() ?? new CollectionAccess(registry, services);
    }

    public Task GetCollectionAsync(HttpContext context) =>
        _fixed is not null && _authorizer is null ? _fixed.Collection.GetAsync(context) : RunAsync(context, static (e, c, _) => e.Collection.GetAsync(c), null);

    public Task ConnectCollectionAsync(HttpContext context) =>
        _fixed is not null && _authorizer is null ? _fixed.Collection.ConnectAsync(context) : RunAsync(context, static (e, c, _) => e.Collection.ConnectAsync(c), null);

    public Task CreateAsync(HttpContext context) => RunAsync(context, static (e, c, _) => e.Records.CreateAsync(c), null);

    public Task GetRecordAsync(HttpContext context, string id) => RunAsync(context, static (e, c, id) => e.Records.GetAsync(c, id!), id);

    public Task ReplaceAsync(HttpContext context, string id) => RunAsync(context, static (e, c, id) => e.Records.ReplaceAsync(c, id!), id);

    public Task PatchAsync(HttpContext context, string id) => RunAsync(context, static (e, c, id) => e.Records.PatchAsync(c, id!), id);

    public Task DeleteAsync(HttpContext context, string id) => RunAsync(context, static (e, c, id) => e.Records.DeleteAsync(c, id!), id);

    private async Task RunAsync(HttpContext context, Func<Endpoints, HttpContext, string?, Task> handler, string? id)
    {
        var endpoints = _fixed;
        if (_family is not null || _authorizer is not null)
        {
            // The same lookup and decision as the WebSocket and SignalR subscribes make, by the collection's name.
            var name = _family is null ? _fixed!.Name : InstanceName(context);
            CollectionAccessStatus status;
            LiveCollection? collection;
            string? reason;
            try
            {
                (status, collection, reason) = await _access.OpenAsync(context.User, name).ConfigureAwait(false);
            }
            catch (SourceUnavailableException e)
            {
                // A family instance that lives in a store (Redis) could not be loaded: nothing was created; try again.
                context.Response.Headers.RetryAfter = ((int)Math.Ceiling((e.RetryAfter ?? TimeSpan.FromSeconds(1)).TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await Problem.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "store-unavailable", "Service Unavailable", e.Message).ConfigureAwait(false);
                return;
            }

            switch (status)
            {
                case CollectionAccessStatus.Unauthorized:
                    await Problem.WriteAsync(context, StatusCodes.Status401Unauthorized, "unauthorized", "Unauthorized", reason!).ConfigureAwait(false);
                    return;
                case CollectionAccessStatus.Forbidden:
                    await Problem.WriteAsync(context, StatusCodes.Status403Forbidden, "forbidden", "Forbidden", reason!).ConfigureAwait(false);
                    return;
                case CollectionAccessStatus.FamilyFull:
                    context.Response.Headers.RetryAfter = Random.Shared.Next(1, 6).ToString(CultureInfo.InvariantCulture);
                    await Problem.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "family-full", "Too many collections", reason!).ConfigureAwait(false);
                    return;
                case CollectionAccessStatus.NotFound:
                    await Problem.WriteAsync(context, StatusCodes.Status404NotFound, "invalid-route-value", "No such collection",
                        $"{FamilyValueProblem(context)} Family '{_family!.Template}' takes route values of ASCII letters, digits and - _ . ~ @.").ConfigureAwait(false);
                    return;
            }

            endpoints = _family is null ? _fixed : _instances.GetValue(collection!, c => new Endpoints(c, _services));
        }

        await handler(endpoints!, context, id).ConfigureAwait(false);
    }

    // The instance's name: the template with the request's route values put in.
    private string InstanceName(HttpContext context)
    {
        var template = _family!.Template;
        foreach (var parameter in _family.Parameters)
        {
            var value = context.Request.RouteValues[parameter] as string ?? string.Empty;
            template = template.Replace("{" + parameter + "}", value, StringComparison.Ordinal);
        }

        return template;
    }

    private string FamilyValueProblem(HttpContext context)
    {
        foreach (var parameter in _family!.Parameters)
        {
            var value = context.Request.RouteValues[parameter] as string ?? string.Empty;
            if (_family.GetValueProblem(value) is { } why)
            {
                return $"The route value '{parameter}' {why}.";
            }
        }

        return "The route values do not name a collection.";
    }

    // The endpoints of one collection: its URL, and its records.
    private sealed class Endpoints(LiveCollection collection, CollectionHttpServices services)
    {
        public string Name => collection.Name;

        public CollectionEndpoints Collection { get; } = new(collection, services);

        public RecordEndpoints Records { get; } = new(collection, services);
    }
}
