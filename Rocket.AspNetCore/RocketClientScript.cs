using System;
using System.IO;
using System.Security.Cryptography;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Rocket.AspNetCore;

/// <summary>
/// The JavaScript client (<c>clients/js/rocket-client.js</c>, the npm package <c>@rocket-live/client</c>), embedded in this
/// assembly so pages without a build step can import it from the app itself (<c>MapRocketClientScript</c>).
/// </summary>
public static class RocketClientScript
{
    private const string ResourceName = "Rocket.AspNetCore.rocket-client.js";

    private static readonly Lazy<(byte[] Content, string Version)> Module = new(Load);

    /// <summary>
    /// The module's version: the first 16 hex digits of the SHA-256 of its bytes, so it changes whenever the script does.
    /// It is the <c>ETag</c> (quoted) and the value of the <c>v</c> query parameter that makes a response immutable.
    /// </summary>
    public static string Version => Module.Value.Version;

    /// <summary>The module's bytes (UTF-8 JavaScript).</summary>
    public static ReadOnlyMemory<byte> Content => Module.Value.Content;

    /// <summary>
    /// The URL to import the module from with long-term caching: <paramref name="path"/> (where
    /// <c>MapRocketClientScript</c> mapped it) with <c>?v=</c><see cref="Version"/>.
    /// </summary>
    public static string GetVersionedPath(string path = RocketClientScriptEndpointRouteBuilderExtensions.DefaultPattern)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return $"{path}?v={Version}";
    }

    private static (byte[] Content, string Version) Load()
    {
        using var stream = typeof(RocketClientScript).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from {typeof(RocketClientScript).Assembly.GetName().Name}.");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var content = buffer.ToArray();
        var version = Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 8));
        return (content, version);
    }

    // GET and HEAD. Without the current version in the query the answer must be revalidated (no-cache: a cache keeps it
    // but asks each time, and the strong ETag makes that a 304); with it, the URL can never name other bytes, so it is
    // cached for a year and never revalidated. A stale `v` (a page written for an older script) gets today's script,
    // revalidated, so it is never pinned under a URL that names other bytes.
    internal static Task ServeAsync(HttpContext context)
    {
        var (content, version) = Module.Value;
        var etag = new EntityTagHeaderValue($"\"{version}\"");
        var response = context.Response;
        var headers = response.Headers;
        headers.ETag = etag.ToString();
        headers.CacheControl = context.Request.Query.TryGetValue("v", out var v) && v == version
            ? "public, max-age=31536000, immutable"
            : "no-cache";
        headers.XContentTypeOptions = "nosniff";

        if (Matches(context.Request.Headers.IfNoneMatch, etag))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/javascript; charset=utf-8";
        response.ContentLength = content.Length;
        return HttpMethods.IsHead(context.Request.Method)
            ? Task.CompletedTask
            : response.Body.WriteAsync(content, context.RequestAborted).AsTask();
    }

    // If-None-Match uses the weak comparison (RFC 9110, 13.1.2): W/"x" matches "x"; "*" matches any current
    // representation. A header that does not parse matches nothing, and the script is sent.
    private static bool Matches(StringValues ifNoneMatch, EntityTagHeaderValue etag)
    {
        if (StringValues.IsNullOrEmpty(ifNoneMatch) || !EntityTagHeaderValue.TryParseList(ifNoneMatch, out var tags))
        {
            return false;
        }

        foreach (var tag in tags)
        {
            if (tag.Equals(EntityTagHeaderValue.Any) || tag.Compare(etag, useStrongComparison: false))
            {
                return true;
            }
        }

        return false;
    }
}
