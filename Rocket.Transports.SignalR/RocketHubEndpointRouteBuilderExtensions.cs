using System;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Rocket.SignalR;
using Rocket.Transports.SignalR;

namespace Rocket;

/// <summary>Maps Rocket's SignalR hub.</summary>
public static class RocketHubEndpointRouteBuilderExtensions
{
    /// <summary>The default route of <see cref="RocketHub"/>.</summary>
    public const string DefaultHubPattern = RocketHubContract.DefaultPath;

    /// <summary>
    /// Maps <see cref="RocketHub"/> at <paramref name="pattern"/>, <c>/rocket</c> by default. Needs
    /// <c>AddRocket()...AddSignalRTransport()</c>.
    /// </summary>
    /// <returns>The hub's endpoint builder, to add authorization, CORS or other conventions to.</returns>
    public static HubEndpointConventionBuilder MapRocketHub(this IEndpointRouteBuilder endpoints, string pattern = DefaultHubPattern)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        return endpoints.MapHub<RocketHub>(pattern);
    }
}
