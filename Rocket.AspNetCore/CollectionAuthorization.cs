using System;
using System.Collections.Generic;
using System.Security.Claims;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Rocket.AspNetCore;

/// <summary>
/// The resource an authorization policy of a collection is evaluated against (resource-based authorization): which
/// collection, which family, and the family's route values. A handler of the policy reads it from
/// <c>AuthorizationHandlerContext.Resource</c>.
/// </summary>
public sealed class CollectionResource
{
    /// <summary>Creates the resource.</summary>
    public CollectionResource(string name, string? family, IReadOnlyDictionary<string, string> routeValues)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(routeValues);
        Name = name;
        Family = family;
        RouteValues = routeValues;
    }

    /// <summary>The collection's name: a registered collection's (<c>messages</c>), or a family instance's (<c>users/bob/notes</c>).</summary>
    public string Name { get; }

    /// <summary>The family's template (<c>users/{user}/notes</c>), or <see langword="null"/> for a registered collection.</summary>
    public string? Family { get; }

    /// <summary>The family's route values by parameter name (<c>user</c> → <c>bob</c>); empty for a registered collection.</summary>
    public IReadOnlyDictionary<string, string> RouteValues { get; }
}

/// <summary>Which collections and families require authorization, and with which policy.</summary>
public sealed class RocketAuthorizationOptions
{
    internal Dictionary<string, string?> Policies { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Guards the collection or family <paramref name="collectionOrTemplate"/> with the policy
    /// <paramref name="policy"/>, or the app's default policy (an authenticated user) when <see langword="null"/>.
    /// </summary>
    public void Require(string collectionOrTemplate, string? policy = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(collectionOrTemplate);
        Policies[collectionOrTemplate.Trim('/')] = policy;
    }
}

/// <summary>What <see cref="CollectionAuthorizer.AuthorizeAsync"/> decided.</summary>
public enum CollectionAuthorization
{
    /// <summary>The user may read and write the collection.</summary>
    Allowed,

    /// <summary>Nobody is signed in (HTTP 401).</summary>
    Unauthenticated,

    /// <summary>The signed-in user may not (HTTP 403).</summary>
    Forbidden,
}

/// <summary>
/// Evaluates a collection's policy, once per request that opens a stream, resumes one, reads or writes: the same
/// decision for the REST scaffold, SSE, the WebSocket upgrade and the SignalR hub. Nothing is evaluated per event.
/// </summary>
public sealed class CollectionAuthorizer
{
    private readonly IAuthorizationService? _authorization;
    private readonly IAuthorizationPolicyProvider? _policies;
    private readonly RocketAuthorizationOptions _options;

    /// <summary>Creates the authorizer (a singleton of the container).</summary>
    public CollectionAuthorizer(IOptions<RocketAuthorizationOptions> options, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(services);
        _options = options.Value;
        _authorization = services.GetService<IAuthorizationService>();
        _policies = services.GetService<IAuthorizationPolicyProvider>();
    }

    /// <summary>Whether <paramref name="collectionOrTemplate"/> has a policy.</summary>
    public bool IsGuarded(string collectionOrTemplate) => _options.Policies.ContainsKey(collectionOrTemplate.Trim('/'));

    /// <summary>Evaluates the policy of the collection (or of its family) for <paramref name="user"/>; <see cref="CollectionAuthorization.Allowed"/> when it has none.</summary>
    /// <exception cref="InvalidOperationException">A policy is required but the app did not call <c>AddAuthorization()</c>.</exception>
    public async Task<CollectionAuthorization> AuthorizeAsync(ClaimsPrincipal user, CollectionResource resource)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(resource);
        if (!_options.Policies.TryGetValue(resource.Family ?? resource.Name, out var policyName))
        {
            return CollectionAuthorization.Allowed;
        }

        if (_authorization is null || _policies is null)
        {
            throw new InvalidOperationException($"Collection '{resource.Name}' requires authorization, but the app has no authorization services: call services.AddAuthorization().");
        }

        var policy = policyName is null
            ? await _policies.GetDefaultPolicyAsync().ConfigureAwait(false)
            : await _policies.GetPolicyAsync(policyName).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"Collection '{resource.Name}' requires the authorization policy '{policyName}', which is not registered.");
        var result = await _authorization.AuthorizeAsync(user, resource, policy).ConfigureAwait(false);
        if (result.Succeeded)
        {
            return CollectionAuthorization.Allowed;
        }

        return user.Identity?.IsAuthenticated == true ? CollectionAuthorization.Forbidden : CollectionAuthorization.Unauthenticated;
    }
}
