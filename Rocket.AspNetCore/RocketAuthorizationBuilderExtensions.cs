using System;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Rocket.AspNetCore;

namespace Rocket;

/// <summary>Guards collections and families with ASP.NET Core authorization policies.</summary>
public static class RocketAuthorizationBuilderExtensions
{
    /// <summary>
    /// Requires <paramref name="policy"/> (the app's default policy, an authenticated user, when <see langword="null"/>)
    /// for the collection or family <paramref name="collectionOrTemplate"/>, evaluated against a
    /// <see cref="CollectionResource"/> (its name, family and route values) once per request on every path: the REST
    /// scaffold, the document GET, the SSE stream, the WebSocket upgrade (before the 101) and the SignalR hub's
    /// <c>Subscribe</c>. Also call <c>services.AddAuthorization()</c> and an authentication scheme.
    /// </summary>
    public static IRocketBuilder RequireAuthorization(this IRocketBuilder builder, string collectionOrTemplate, string? policy = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(collectionOrTemplate);
        builder.Services.Configure<RocketAuthorizationOptions>(o => o.Require(collectionOrTemplate, policy));
        builder.Services.TryAddSingleton<CollectionAuthorizer>();
        return builder;
    }
}
