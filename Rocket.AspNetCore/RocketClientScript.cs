using System;
using System.IO;
using System.IO.Compression;
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

    private static readonly Lazy<Representations> Module = new(Load);

    /// <summary>
    /// The module's version: the first 16 hex digits of the SHA-256 of its bytes, so it changes whenever the script does.
    /// It is the <c>ETag</c> (quoted; with <c>-br</c> or <c>-gzip</c> for a compressed answer) and the value of the
    /// <c>v</c> query parameter that makes a response immutable.
    /// </summary>
    public static string Version => Module.Value.Version;

    /// <summary>The module's bytes (UTF-8 JavaScript).</summary>
    public static ReadOnlyMemory<byte> Content => Module.Value.Identity;

    /// <summary>
    /// The URL to import the module from with long-term caching: <paramref name="path"/> (where
    /// <c>MapRocketClientScript</c> mapped it) with <c>?v=</c><see cref="Version"/>.
    /// </summary>
    public static string GetVersionedPath(string path = RocketClientScriptEndpointRouteBuilderExtensions.DefaultPattern)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return $"{path}?v={Version}";
    }

    // The script as embedded, and compressed once, at the first request, with Brotli and gzip at their best settings:
    // it is sent many times and never changes.
    private sealed record Representations(byte[] Identity, byte[] Brotli, byte[] Gzip, string Version);

    private static Representations Load()
    {
        using var stream = typeof(RocketClientScript).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from {typeof(RocketClientScript).Assembly.GetName().Name}.");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var content = buffer.ToArray();
        var version = Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 8));
        return new Representations(content, Compress(content, static s => new BrotliStream(s, CompressionLevel.SmallestSize)),
            Compress(content, static s => new GZipStream(s, CompressionLevel.SmallestSize)), version);
    }

    private static byte[] Compress(byte[] content, Func<Stream, Stream> compressor)
    {
        using var output = new MemoryStream();
        using (var compressing = compressor(output))
        {
            compressing.Write(content);
        }

        return output.ToArray();
    }

    // GET and HEAD. Without the current version in the query the answer must be revalidated (no-cache: a cache keeps it
    // but asks each time, and the strong ETag makes that a 304); with it, the URL can never name other bytes, so it is
    // cached for a year and never revalidated. A stale `v` (a page written for an older script) gets today's script,
    // revalidated, so it is never pinned under a URL that names other bytes.
    internal static Task ServeAsync(HttpContext context)
    {
        var module = Module.Value;
        var request = context.Request;
        var response = context.Response;
        var headers = response.Headers;
        var (body, encoding) = ChooseEncoding(request.Headers.AcceptEncoding, module);
        // Each encoding is its own representation, so each has its own strong ETag.
        headers.ETag = encoding is null ? $"\"{module.Version}\"" : $"\"{module.Version}-{encoding}\"";
        headers.Vary = HeaderNames.AcceptEncoding;
        headers.CacheControl = request.Query.TryGetValue("v", out var v) && v == module.Version
            ? "public, max-age=31536000, immutable"
            : "no-cache";
        headers.XContentTypeOptions = "nosniff";

        if (Matches(request.Headers.IfNoneMatch, module.Version))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/javascript; charset=utf-8";
        if (encoding is not null)
        {
            headers.ContentEncoding = encoding;
        }

        response.ContentLength = body.Length;
        return HttpMethods.IsHead(request.Method)
            ? Task.CompletedTask
            : response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    // Brotli, else gzip, when the request accepts it (a q of 0 refuses it); otherwise the script as it is.
    private static (byte[] Body, string? Encoding) ChooseEncoding(StringValues acceptEncoding, Representations module)
    {
        if (!StringWithQualityHeaderValue.TryParseList(acceptEncoding, out var accepted))
        {
            return (module.Identity, null);
        }

        bool Accepts(string name)
        {
            foreach (var value in accepted)
            {
                if (value.Value.Equals(name, StringComparison.OrdinalIgnoreCase) && (value.Quality ?? 1) > 0)
                {
                    return true;
                }
            }

            return false;
        }

        return Accepts("br") ? (module.Brotli, "br") : Accepts("gzip") ? (module.Gzip, "gzip") : (module.Identity, null);
    }

    // If-None-Match uses the weak comparison (RFC 9110, 13.1.2): W/"x" matches "x"; "*" matches any current
    // representation. A tag of this version in any encoding matches: a cache holds the one it was sent, and every one of
    // them decodes to the current script. A header that does not parse matches nothing, and the script is sent.
    private static bool Matches(StringValues ifNoneMatch, string version)
    {
        if (StringValues.IsNullOrEmpty(ifNoneMatch) || !EntityTagHeaderValue.TryParseList(ifNoneMatch, out var tags))
        {
            return false;
        }

        foreach (var tag in tags)
        {
            if (tag.Equals(EntityTagHeaderValue.Any))
            {
                return true;
            }

            var opaque = tag.Tag.AsSpan().Trim('"');
            if (opaque.SequenceEqual(version) || opaque.SequenceEqual($"{version}-br") || opaque.SequenceEqual($"{version}-gzip"))
            {
                return true;
            }
        }

        return false;
    }
}
