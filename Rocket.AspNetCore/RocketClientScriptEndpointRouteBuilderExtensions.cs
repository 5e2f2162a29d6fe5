using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Rocket.AspNetCore;

namespace Rocket;

/// <summary>Serves Rocket's JavaScript client from the app, for pages without a build step.</summary>
public static class RocketClientScriptEndpointRouteBuilderExtensions
{
    /// <summary>Where <see cref="MapRocketClientScript"/> serves the module by default.</summary>
    public const string DefaultPattern = "/rocket/client.js";

    /// <summary>
    /// Serves the JavaScript client module (<see cref="RocketClientScript"/>) at <paramref name="pattern"/> for
    /// <c>GET</c> and <c>HEAD</c>: <c>text/javascript</c>, Brotli or gzip when accepted (compressed once), a strong
    /// <c>ETag</c> (<c>304</c> for a matching <c>If-None-Match</c>), and <c>Cache-Control: public, max-age=31536000, immutable</c> when the URL carries the
    /// current version (<see cref="RocketClientScript.GetVersionedPath"/>), <c>no-cache</c> (revalidate every time)
    /// otherwise. Opt-in: nothing is served unless this is called. The endpoint is left out of OpenAPI documents.
    /// </summary>
    /// <returns>The endpoint, to add conventions (authorization, CORS) to.</returns>
    public static IEndpointConventionBuilder MapRocketClientScript(this IEndpointRouteBuilder endpoints, string pattern = DefaultPattern)
    {
        System.ArgumentNullException.ThrowIfNull(endpoints);
        System.ArgumentException.ThrowIfNullOrEmpty(pattern);
        // A static script, not part of the app's API: it stays out of OpenAPI documents.
        return endpoints.MapMethods(pattern, [HttpMethods.Get, HttpMethods.Head], RocketClientScript.ServeAsync).ExcludeFromDescription();
    }
}
