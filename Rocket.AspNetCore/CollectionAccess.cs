using System;
using System.Collections.Generic;
using System.Security.Claims;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Rocket.Live;

namespace Rocket.AspNetCore;

/// <summary>What <see cref="CollectionAccess.OpenAsync"/> decided.</summary>
public enum CollectionAccessStatus
{
    /// <summary>The collection is there (created, for a family instance) and the user may use it.</summary>
    Allowed,

    /// <summary>No registered collection has the name and no family's template matches it.</summary>
    NotFound,

    /// <summary>The collection requires a signed-in user and nobody is signed in.</summary>
    Unauthorized,

    /// <summary>The signed-in user may not use the collection.</summary>
    Forbidden,

    /// <summary>The family has as many instances as it admits, all with subscribers.</summary>
    FamilyFull,
}

/// <summary>
/// Finds a collection by name for a user, for transports where a client names collections in messages (several
/// collections on one WebSocket, the SignalR hub): a registered collection, or a family instance matched by its
/// template and created on first use, after the collection's authorization policy allowed the user. A refusal creates
/// nothing. The same decision as the HTTP endpoints make.
/// </summary>
public sealed class CollectionAccess
{
    private static readonly IReadOnlyDictionary<string, string> NoValues = new Dictionary<string, string>();

    private readonly CollectionRegistry _registry;
    private readonly CollectionAuthorizer? _authorizer;

    /// <summary>Creates the service (a singleton of the container).</summary>
    public CollectionAccess(CollectionRegistry registry, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(services);
        _registry = registry;
        _authorizer = services.GetService<CollectionAuthorizer>();
    }

    /// <summary>Finds (or creates, for a family) the collection <paramref name="name"/> for <paramref name="user"/>.</summary>
    /// <returns>The decision, the collection when allowed, and a sentence for the client otherwise.</returns>
    public async ValueTask<(CollectionAccessStatus Status, LiveCollection? Collection, string? Reason)> OpenAsync(ClaimsPrincipal user, string name)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(name);
        if (_registry.TryGetRegisteredCollection(name, out var registered))
        {
            var decision = await AuthorizeAsync(user, new CollectionResource(name, null, NoValues)).ConfigureAwait(false);
            return decision == CollectionAccessStatus.Allowed ? (decision, registered, null) : (decision, null, Refusal(decision, name));
        }

        foreach (var family in _registry.Families)
        {
            if (!family.TryMatch(name, out var values))
            {
                continue;
            }

            var decision = await AuthorizeAsync(user, new CollectionResource(name, family.Template, values)).ConfigureAwait(false);
            if (decision != CollectionAccessStatus.Allowed)
            {
                return (decision, null, Refusal(decision, name));
            }

            // Awaited: a family whose instances live in a store (Redis) serves a new one once it is loaded.
            var (lookup, instance, problem) = await family.GetOrCreateAsync(key => values.TryGetValue(key, out var value) ? value : null).ConfigureAwait(false);
            return lookup switch
            {
                CollectionFamilyLookup.Found or CollectionFamilyLookup.Created => (CollectionAccessStatus.Allowed, instance, null),
                CollectionFamilyLookup.Full => (CollectionAccessStatus.FamilyFull, null, problem),
                _ => (CollectionAccessStatus.NotFound, null, problem),
            };
        }

        return (CollectionAccessStatus.NotFound, null, $"No collection is named '{name}' and no collection family's template matches it.");
    }

    private async ValueTask<CollectionAccessStatus> AuthorizeAsync(ClaimsPrincipal user, CollectionResource resource)
    {
        if (_authorizer is null)
        {
            return CollectionAccessStatus.Allowed;
        }

        return await _authorizer.AuthorizeAsync(user, resource).ConfigureAwait(false) switch
        {
            CollectionAuthorization.Allowed => CollectionAccessStatus.Allowed,
            CollectionAuthorization.Unauthenticated => CollectionAccessStatus.Unauthorized,
            _ => CollectionAccessStatus.Forbidden,
        };
    }

    private static string Refusal(CollectionAccessStatus status, string name) => status == CollectionAccessStatus.Unauthorized
        ? $"Collection '{name}' requires a signed-in user."
        : $"The signed-in user may not use collection '{name}'.";
}
