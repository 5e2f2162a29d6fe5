using System.Buffers;
using System.Text.Json;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Rocket.JsonPatch;

namespace Rocket.AspNetCore;

/// <summary>
/// Reads a write's body within <see cref="RocketHttpOptions"/>: its media type, its size, and for a record a JSON object.
/// A body that fails is answered here with its problem, and the caller gets <see langword="null"/>.
/// </summary>
internal static class RequestBody
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { AllowDuplicateProperties = false, CommentHandling = JsonCommentHandling.Disallow };

    /// <summary>The body as a JSON object (<c>application/json</c>), or <see langword="null"/> once refused.</summary>
    public static async Task<JsonDocument?> ReadObjectAsync(HttpContext context, RocketHttpOptions options)
    {
        const string MediaType = "application/json";
        if (!HasMediaType(context.Request, MediaType))
        {
            await UnsupportedMediaTypeAsync(context, MediaType).ConfigureAwait(false);
            return null;
        }

        var bytes = await ReadAsync(context, options.MaxBodyBytes).ConfigureAwait(false);
        if (bytes is null)
        {
            return null;
        }

        // Checked first: JsonDocument throws InvalidOperationException, not JsonException, for a member name with a \\u
        // escape of an unpaired surrogate, which would otherwise escape as a 500.
        if (!JsonElementChecks.IsUnicodeText(bytes))
        {
            await Problem.WriteAsync(context, StatusCodes.Status400BadRequest, "invalid-json", "Invalid JSON",
                "The body is not valid Unicode text: it has bytes that are not UTF-8 or a \\u escape of an unpaired surrogate.").ConfigureAwait(false);
            return null;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, DocumentOptions with { MaxDepth = options.MaxDepth });
        }
        catch (JsonException e)
        {
            await Problem.WriteAsync(context, StatusCodes.Status400BadRequest, "invalid-json", "Invalid JSON", $"The body is not valid JSON: {e.Message}").ConfigureAwait(false);
            return null;
        }

        var kind = document.RootElement.ValueKind;
        if (kind != JsonValueKind.Object)
        {
            // Read the kind before disposing: a disposed document's RootElement throws ObjectDisposedException.
            document.Dispose();
            await Problem.WriteAsync(context, StatusCodes.Status400BadRequest, "not-an-object", "A record is a JSON object",
                $"The body must be a JSON object, not {kind.ToString().ToLowerInvariant()}.").ConfigureAwait(false);
            return null;
        }

        return document;
    }

    /// <summary>The body of media type <paramref name="mediaType"/>, or <see langword="null"/> once refused (415, 413).</summary>
    public static async Task<byte[]?> ReadAsync(HttpContext context, string mediaType, long limit)
    {
        if (!HasMediaType(context.Request, mediaType))
        {
            await UnsupportedMediaTypeAsync(context, mediaType).ConfigureAwait(false);
            return null;
        }

        return await ReadAsync(context, limit).ConfigureAwait(false);
    }

    // The whole body, refusing one over the limit with 413 (by its Content-Length if it has one, else as it arrives).
    private static async Task<byte[]?> ReadAsync(HttpContext context, long limit)
    {
        if (context.Request.ContentLength > limit)
        {
            await TooLargeAsync(context, limit).ConfigureAwait(false);
            return null;
        }

        var reader = context.Request.BodyReader;
        while (true)
        {
            var result = await reader.ReadAsync(context.RequestAborted).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.Length > limit)
            {
                reader.AdvanceTo(buffer.End);
                await TooLargeAsync(context, limit).ConfigureAwait(false);
                return null;
            }

            if (result.IsCompleted)
            {
                var bytes = buffer.ToArray();
                reader.AdvanceTo(buffer.End);
                return bytes;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static bool HasMediaType(HttpRequest request, string mediaType)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
            || !contentType.MediaType.Equals(mediaType, System.StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        // JSON is UTF-8 (RFC 8259 section 8.1); a charset, if given, must say so.
        return !contentType.Charset.HasValue || contentType.Charset.Equals("utf-8", System.StringComparison.OrdinalIgnoreCase);
    }

    private static Task UnsupportedMediaTypeAsync(HttpContext context, string mediaType) =>
        Problem.WriteAsync(context, StatusCodes.Status415UnsupportedMediaType, "unsupported-media-type", "Unsupported Media Type",
            $"The body must be {mediaType} (UTF-8).");

    private static Task TooLargeAsync(HttpContext context, long limit) =>
        Problem.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "body-too-large", "Content Too Large",
            $"The body is larger than {limit} bytes, the limit.");
}
