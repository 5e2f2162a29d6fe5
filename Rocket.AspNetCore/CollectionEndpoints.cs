using System;
using System.Buffers;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using Rocket.JsonPatch;
using Rocket.Live;

namespace Rocket.AspNetCore;

/// <summary>The request handlers of one mapped collection: the document and stream GET, and the REST scaffold.</summary>
internal sealed class CollectionEndpoints
{
    private static readonly JsonDocumentOptions BodyDocumentOptions = new() { AllowDuplicateProperties = false, CommentHandling = JsonCommentHandling.Disallow };

    private readonly LiveCollection _collection;
    private readonly IRocketStreamEndpoint[] _streams;
    private readonly IRecordStore _store;
    private readonly RocketHttpOptions _options;
    private readonly bool _hasOwnStore;

    public CollectionEndpoints(IServiceProvider services, string collection)
        : this(services, services.GetRequiredService<CollectionRegistry>().GetCollection(collection))
    {
    }

    public CollectionEndpoints(IServiceProvider services, LiveCollection collection)
    {
        _collection = collection;
        _streams = services.GetServices<IRocketStreamEndpoint>().ToArray();
        _store = services.GetService<IRecordStore>()
            ?? new LiveCollectionRecordStore(services.GetRequiredService<CollectionRegistry>(), services.GetRequiredService<IRocketPublisher>());
        _options = services.GetRequiredService<IOptions<RocketHttpOptions>>().Value;
        _hasOwnStore = services.GetServices<CollectionStoreRegistration>().Any(r => r.Name == collection.Name);
    }

    // The collection's own store is scoped: resolved from the request, so it may hold the request's DbContext.
    private IRecordStore StoreFor(HttpContext context) => _hasOwnStore
        ? new CollectionStoreRecordStore(
            context.RequestServices.GetRequiredService<CollectionRegistry>(),
            context.RequestServices.GetRequiredKeyedService<ICollectionStore>(Name),
            context.RequestServices.GetRequiredService<CollectionWriteGates>())
        : _store;

    private string Name => _collection.Name;

    // The collection these endpoints serve.
    public string CollectionName => _collection.Name;

    /// <summary><c>GET /collection</c>: a registered stream if the request asks for one, else the document, else 406.</summary>
    public Task GetCollectionAsync(HttpContext context) => TryStream(context) ?? GetDocumentAsync(context);

    /// <summary>
    /// An HTTP/2 WebSocket (RFC 8441): the request is a <c>CONNECT</c> with <c>:protocol websocket</c>, which ASP.NET
    /// Core's WebSocket middleware presents as a WebSocket request. Any other <c>CONNECT</c> is not for this URL.
    /// </summary>
    public Task ConnectCollectionAsync(HttpContext context)
    {
        if (context.WebSockets.IsWebSocketRequest && TryStream(context) is { } stream)
        {
            return stream;
        }

        context.Response.Headers.Allow = HttpMethods.Get;
        return Problem.WriteAsync(context, StatusCodes.Status405MethodNotAllowed, "method-not-allowed", "Method Not Allowed",
            "CONNECT opens a WebSocket over HTTP/2 (RFC 8441) here, and this request is not one, or the WebSocket transport is not registered; read the collection with GET.");
    }

    // The first registered stream that accepts the request, running; null when none does. The stream's own task, not
    // awaited here: a state machine around it would stay alive as long as the connection (136 bytes per idle subscriber).
    private Task? TryStream(HttpContext context)
    {
        foreach (var stream in _streams)
        {
            if (stream.CanAccept(context))
            {
                // Admission before anything of the stream is written (for a WebSocket, before the upgrade); Subscribe
                // checks again, for requests that race past this one together.
                return _collection.CanSubscribe ? stream.ExecuteAsync(context, _collection) : OverLimitAsync(context);
            }
        }

        return null;
    }

    // 503 with a Retry-After drawn between 1 and 5 s: the clients a storm turned away come back spread out, not at once.
    private Task OverLimitAsync(HttpContext context)
    {
        context.Response.Headers.RetryAfter = Random.Shared.Next(1, 6).ToString(CultureInfo.InvariantCulture);
        return Problem.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "subscriber-limit", "Too many subscribers",
            $"Collection '{Name}' (or this server) has as many subscribers as it admits; try again after the Retry-After delay.");
    }

    private async Task GetDocumentAsync(HttpContext context)
    {
        if (!AcceptsJson(context.Request))
        {
            var offered = string.Join(", ", _streams.Select(static s => s.Name).Prepend("application/json"));
            await Problem.WriteAsync(context, StatusCodes.Status406NotAcceptable, "not-acceptable", "Not Acceptable",
                $"This URL serves {offered}; the Accept header asks for none of them.").ConfigureAwait(false);
            return;
        }

        var keyed = false;
        var form = context.Request.Query["form"];
        if (form.Count > 1 || (form.Count == 1 && !(keyed = form[0] == "keyed") && form[0] != "list"))
        {
            await Problem.WriteAsync(context, StatusCodes.Status400BadRequest, "invalid-form", "Invalid form",
                "The form query parameter is 'list' (the default, {\"<collection>\":[...]}) or 'keyed' ({\"<collection>\":{\"<id>\":...}}).").ConfigureAwait(false);
            return;
        }

        var snapshot = _collection.GetSnapshot();
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        response.Headers[RocketHeaders.LastEventId] = snapshot.Cursor.ToString();
        response.Headers.CacheControl = "no-cache";
        if (keyed)
        {
            snapshot.WriteKeyed(response.BodyWriter);
        }
        else
        {
            snapshot.WriteList(response.BodyWriter);
        }

        await response.BodyWriter.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary><c>POST /collection</c>: creates a record; the server assigns its <c>id</c>.</summary>
    public async Task CreateAsync(HttpContext context)
    {
        using var body = await ReadJsonObjectAsync(context, "application/json").ConfigureAwait(false);
        if (body is null)
        {
            return;
        }

        if (body.RootElement.TryGetProperty("id"u8, out _))
        {
            await Problem.WriteAsync(context, StatusCodes.Status400BadRequest, "id-is-server-owned", "The id belongs to the server",
                "A new record must not carry an 'id' member: the server assigns it and returns it in the body and the Location header.").ConfigureAwait(false);
            return;
        }

        var id = Guid.CreateVersion7().ToString("N", CultureInfo.InvariantCulture);
        var record = WithId(body.RootElement, id);
        ReadOnlyMemory<byte> stored = default;
        if (!await TryStoreAsync(context, async () => Keep(await StoreFor(context).CreateAsync(Name, id, record, context.RequestAborted).ConfigureAwait(false), out stored)).ConfigureAwait(false))
        {
            return;
        }

        context.Response.Headers.Location = $"{context.Request.PathBase}{context.Request.Path.Value?.TrimEnd('/')}/{Uri.EscapeDataString(id)}";
        await WriteRecordAsync(context, StatusCodes.Status201Created, stored).ConfigureAwait(false);
    }

    /// <summary><c>GET /collection/{id}</c>.</summary>
    public async Task GetRecordAsync(HttpContext context, string id)
    {
        var record = await StoreFor(context).GetAsync(Name, id, context.RequestAborted).ConfigureAwait(false);
        if (record is not { } value)
        {
            await NotFoundAsync(context, id).ConfigureAwait(false);
            return;
        }

        var etag = ETag(value.Span);
        if (Matches(context.Request.Headers.IfNoneMatch, etag, weak: true))
        {
            context.Response.StatusCode = StatusCodes.Status304NotModified;
            context.Response.Headers.ETag = etag;
            return;
        }

        await WriteRecordAsync(context, StatusCodes.Status200OK, value).ConfigureAwait(false);
    }

    /// <summary><c>PUT /collection/{id}</c>: replaces a record whole; its <c>id</c> cannot change.</summary>
    public async Task ReplaceAsync(HttpContext context, string id)
    {
        using var body = await ReadJsonObjectAsync(context, "application/json").ConfigureAwait(false);
        if (body is null)
        {
            return;
        }

        if (body.RootElement.TryGetProperty("id"u8, out var bodyId) && !(bodyId.ValueKind == JsonValueKind.String && bodyId.ValueEquals(id)))
        {
            await Problem.WriteAsync(context, StatusCodes.Status409Conflict, "id-is-server-owned", "The id belongs to the server",
                $"The body's 'id' must be \"{id}\", the record's id, or be left out.").ConfigureAwait(false);
            return;
        }

        var expected = await ReadPreconditionAsync(context, id).ConfigureAwait(false);
        if (expected.Failed)
        {
            return;
        }

        var record = WithId(body.RootElement, id);
        ReadOnlyMemory<byte> stored = default;
        if (await TryStoreAsync(context, async () => Keep(await StoreFor(context).UpdateAsync(Name, id, record, expected.Record, context.RequestAborted).ConfigureAwait(false), out stored)).ConfigureAwait(false))
        {
            await WriteRecordAsync(context, StatusCodes.Status200OK, stored).ConfigureAwait(false);
        }
    }

    /// <summary><c>PATCH /collection/{id}</c> with <c>application/json-patch+json</c>: all or nothing.</summary>
    public async Task PatchAsync(HttpContext context, string id)
    {
        if (!HasMediaType(context.Request, "application/json-patch+json"))
        {
            await UnsupportedMediaTypeAsync(context, "application/json-patch+json").ConfigureAwait(false);
            return;
        }

        var bytes = await ReadBodyAsync(context).ConfigureAwait(false);
        if (bytes is null)
        {
            return;
        }

        JsonPatchDocument patch;
        try
        {
            patch = JsonPatchDocument.Parse(bytes, new JsonPatchParseOptions { MaxDepth = _options.MaxDepth, MaxOperations = _options.MaxPatchOperations });
        }
        catch (JsonPatchException e)
        {
            await PatchProblemAsync(context, e, e.OperationIndex).ConfigureAwait(false);
            return;
        }

        var expected = await ReadPreconditionAsync(context, id).ConfigureAwait(false);
        if (expected.Failed)
        {
            return;
        }

        var current = expected.Record ?? await StoreFor(context).GetAsync(Name, id, context.RequestAborted).ConfigureAwait(false);
        if (current is not { } currentRecord)
        {
            await NotFoundAsync(context, id).ConfigureAwait(false);
            return;
        }

        // The precondition and the id rule ride in the patch itself, so they are checked against the very state the
        // patch is committed on, together with the client's operations: [test "" <as read>] + client ops + [test /id <its id>].
        var operations = new List<JsonPatchOperation>(patch.Count + 2);
        var currentElement = JsonElement.Parse(currentRecord.Span);
        if (expected.Record is not null)
        {
            operations.Add(JsonPatchOperation.Test(JsonPointer.Root, currentElement));
        }

        var offset = operations.Count;
        operations.AddRange(patch);
        if (currentElement.ValueKind == JsonValueKind.Object && currentElement.TryGetProperty("id"u8, out var currentId))
        {
            operations.Add(JsonPatchOperation.Test(JsonPointer.Create("id"), currentId));
        }

        ReadOnlyMemory<byte> record = default;
        var stored = await TryStoreAsync(
            context,
            async () =>
            {
                var patched = await StoreFor(context).PatchAsync(Name, id, JsonPatchDocument.Create(operations), context.RequestAborted).ConfigureAwait(false);
                record = patched.Record;
                return patched.Cursor;
            },
            failure =>
            {
                var index = failure.OperationIndex - offset;
                if (index < 0)
                {
                    return Problem.WriteAsync(context, StatusCodes.Status412PreconditionFailed, "precondition-failed", "Precondition Failed",
                        $"Record '{id}' changed since the ETag in If-Match was issued.");
                }

                if (index >= patch.Count)
                {
                    return Problem.WriteAsync(context, StatusCodes.Status409Conflict, "id-is-server-owned", "The id belongs to the server",
                        "The patch changes or removes the record's 'id' member, which belongs to the server.");
                }

                return PatchProblemAsync(context, failure, index);
            }).ConfigureAwait(false);
        if (stored)
        {
            await WriteRecordAsync(context, StatusCodes.Status200OK, record).ConfigureAwait(false);
        }
    }

    /// <summary><c>DELETE /collection/{id}</c>: 204.</summary>
    public async Task DeleteAsync(HttpContext context, string id)
    {
        var expected = await ReadPreconditionAsync(context, id).ConfigureAwait(false);
        if (expected.Failed)
        {
            return;
        }

        if (await TryStoreAsync(context, () => StoreFor(context).DeleteAsync(Name, id, expected.Record, context.RequestAborted)).ConfigureAwait(false))
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
        }
    }

    // The cursor of a stored write, keeping the record it stored for the response.
    private static Cursor Keep(StoredRecord written, out ReadOnlyMemory<byte> record)
    {
        record = written.Record;
        return written.Cursor;
    }

    private static byte[] WithId(JsonElement body, string id)
    {
        // The id comes first, so a record reads naturally and the member the server owns is easy to find.
        var output = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(output, JsonPatchWriter.WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("id"u8, id);
            foreach (var member in body.EnumerateObject())
            {
                if (!member.NameEquals("id"u8))
                {
                    member.WriteTo(json);
                }
            }

            json.WriteEndObject();
        }

        return output.WrittenSpan.ToArray();
    }

    private async Task<JsonDocument?> ReadJsonObjectAsync(HttpContext context, string mediaType)
    {
        if (!HasMediaType(context.Request, mediaType))
        {
            await UnsupportedMediaTypeAsync(context, mediaType).ConfigureAwait(false);
            return null;
        }

        var bytes = await ReadBodyAsync(context).ConfigureAwait(false);
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
            document = JsonDocument.Parse(bytes, BodyDocumentOptions with { MaxDepth = _options.MaxDepth });
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

    /// <summary>Reads the whole body, refusing one over <see cref="RocketHttpOptions.MaxBodyBytes"/> with 413.</summary>
    private async Task<byte[]?> ReadBodyAsync(HttpContext context)
    {
        var limit = _options.MaxBodyBytes;
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

    /// <summary>Reads <c>If-Match</c>: none, or the current record whose ETag it names; writes 404/412 when it fails.</summary>
    private async Task<Precondition> ReadPreconditionAsync(HttpContext context, string id)
    {
        var ifMatch = context.Request.Headers.IfMatch;
        if (StringValues.IsNullOrEmpty(ifMatch))
        {
            return default;
        }

        var current = await StoreFor(context).GetAsync(Name, id, context.RequestAborted).ConfigureAwait(false);
        if (current is not { } record)
        {
            await NotFoundAsync(context, id).ConfigureAwait(false);
            return new Precondition(true, null);
        }

        if (!Matches(ifMatch, ETag(record.Span), weak: false))
        {
            await Problem.WriteAsync(context, StatusCodes.Status412PreconditionFailed, "precondition-failed", "Precondition Failed",
                $"Record '{id}' does not have the ETag given in If-Match: it changed since.").ConfigureAwait(false);
            return new Precondition(true, null);
        }

        return new Precondition(false, record);
    }

    // Runs a write; on success the response carries the cursor of the event it caused, so a client can wait for its own
    // write on a stream. A refusal is answered here with its problem response.
    private async Task<bool> TryStoreAsync(HttpContext context, Func<ValueTask<Cursor>> write, Func<JsonPatchException, Task>? onPatchFailure = null)
    {
        try
        {
            var cursor = await write().ConfigureAwait(false);
            context.Response.Headers[RocketHeaders.LastEventId] = cursor.ToString();
            return true;
        }
        catch (SourceUnavailableException e)
        {
            // Nothing was written; the client may simply try again (RFC 9110 section 15.6.4).
            var retryAfter = e.RetryAfter ?? TimeSpan.FromSeconds(1);
            context.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            await Problem.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "store-unavailable", "Service Unavailable", e.Message).ConfigureAwait(false);
            return false;
        }
        catch (ChangeRefusedException e)
        {
            switch (e.Reason)
            {
                case ChangeRefusal.RecordNotFound:
                    await NotFoundAsync(context, e.RecordId ?? string.Empty).ConfigureAwait(false);
                    break;
                case ChangeRefusal.RecordAlreadyExists:
                    await Problem.WriteAsync(context, StatusCodes.Status409Conflict, "record-exists", "Record exists", e.Message).ConfigureAwait(false);
                    break;
                case ChangeRefusal.PreconditionFailed:
                    await Problem.WriteAsync(context, StatusCodes.Status412PreconditionFailed, "precondition-failed", "Precondition Failed", e.Message).ConfigureAwait(false);
                    break;
                case ChangeRefusal.RecordTooLarge or ChangeRefusal.RecordTooDeep when e.InnerException is JsonPatchException { OperationIndex: >= 0 } limit:
                    // A budget a patch's operation ran into: answered like any failed operation, with the client's index.
                    await (onPatchFailure?.Invoke(limit) ?? PatchProblemAsync(context, limit, limit.OperationIndex)).ConfigureAwait(false);
                    break;
                case ChangeRefusal.RecordTooLarge:
                    await Problem.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "record-too-large", "Record too large", e.Message).ConfigureAwait(false);
                    break;
                case ChangeRefusal.RecordTooDeep:
                    await Problem.WriteAsync(context, StatusCodes.Status400BadRequest, "record-too-deep", "Record nested too deeply", e.Message).ConfigureAwait(false);
                    break;
                case ChangeRefusal.PatchFailed when e.InnerException is JsonPatchException patchError:
                    await (onPatchFailure?.Invoke(patchError) ?? PatchProblemAsync(context, patchError, patchError.OperationIndex)).ConfigureAwait(false);
                    break;
                default:
                    await Problem.WriteAsync(context, StatusCodes.Status400BadRequest, "invalid-record", "Invalid record", e.Message).ConfigureAwait(false);
                    break;
            }

            return false;
        }
    }

    private static Task PatchProblemAsync(HttpContext context, JsonPatchException error, int operationIndex)
    {
        // RFC 5789 section 2.2: a malformed patch is 400; one that cannot apply to the resource's state is 409.
        var status = error.Error switch
        {
            JsonPatchError.PathNotFound or JsonPatchError.InvalidTarget or JsonPatchError.TestFailed => StatusCodes.Status409Conflict,
            JsonPatchError.DocumentTooLarge => StatusCodes.Status413PayloadTooLarge,
            JsonPatchError.MalformedDocument => StatusCodes.Status500InternalServerError,
            _ => StatusCodes.Status400BadRequest,
        };
        var type = error.Error switch
        {
            JsonPatchError.TestFailed => "test-failed",
            JsonPatchError.PathNotFound => "path-not-found",
            JsonPatchError.InvalidTarget => "invalid-target",
            JsonPatchError.InvalidPointer => "invalid-pointer",
            JsonPatchError.InvalidOperation => "invalid-operation",
            JsonPatchError.DocumentTooLarge => "record-too-large",
            JsonPatchError.DocumentTooDeep => "record-too-deep",
            _ => "invalid-patch",
        };
        var detail = operationIndex >= 0 ? RenumberOperation(error.Message, error.OperationIndex, operationIndex) : error.Message;
        return Problem.WriteAsync(context, status, type, "The patch was refused", detail, operationIndex);
    }

    // Operations Rocket adds in front of the client's shift the engine's numbering; the client must see its own.
    private static string RenumberOperation(string message, int engineIndex, int clientIndex) =>
        engineIndex == clientIndex ? message : message.Replace($"Operation {engineIndex} ", $"Operation {clientIndex} ", StringComparison.Ordinal);

    private static async Task WriteRecordAsync(HttpContext context, int status, ReadOnlyMemory<byte> record)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        response.Headers.ETag = ETag(record.Span);
        await response.BodyWriter.WriteAsync(record, context.RequestAborted).ConfigureAwait(false);
    }

    private Task NotFoundAsync(HttpContext context, string id) =>
        Problem.WriteAsync(context, StatusCodes.Status404NotFound, "not-found", "Not Found", $"Collection '{Name}' has no record '{id}'.");

    private static Task UnsupportedMediaTypeAsync(HttpContext context, string mediaType) =>
        Problem.WriteAsync(context, StatusCodes.Status415UnsupportedMediaType, "unsupported-media-type", "Unsupported Media Type",
            $"The body must be {mediaType} (UTF-8).");

    private static Task TooLargeAsync(HttpContext context, long limit) =>
        Problem.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "body-too-large", "Content Too Large",
            $"The body is larger than {limit} bytes, the limit.");

    /// <summary>A strong ETag from the record's bytes: 96 bits of SHA-256, base64url.</summary>
    internal static string ETag(ReadOnlySpan<byte> record)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(record, hash);
        return $"\"{Convert.ToBase64String(hash[..12]).Replace('+', '-').Replace('/', '_')}\"";
    }

    /// <summary>RFC 9110 section 13.1: <c>*</c> matches any current record; If-Match compares strongly, If-None-Match weakly.</summary>
    internal static bool Matches(StringValues header, string etag, bool weak)
    {
        foreach (var value in header)
        {
            if (value is null)
            {
                continue;
            }

            foreach (var raw in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (raw == "*")
                {
                    return true;
                }

                var isWeak = raw.StartsWith("W/", StringComparison.Ordinal);
                if (isWeak && !weak)
                {
                    continue;
                }

                if (string.Equals(isWeak ? raw[2..] : raw, etag, StringComparison.Ordinal))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool AcceptsJson(HttpRequest request)
    {
        var accept = request.Headers.Accept;
        if (StringValues.IsNullOrEmpty(accept))
        {
            return true;
        }

        if (!MediaTypeHeaderValue.TryParseList(accept, out var types))
        {
            return false;
        }

        foreach (var type in types)
        {
            if (type.Quality is not 0 && (type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
                || type.MediaType.Equals("application/*", StringComparison.OrdinalIgnoreCase)
                || type.MediaType.Equals("*/*", StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }
        }

        return false;
    }

    private static bool HasMediaType(HttpRequest request, string mediaType)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
            || !contentType.MediaType.Equals(mediaType, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        // JSON is UTF-8 (RFC 8259 section 8.1); a charset, if given, must say so.
        return !contentType.Charset.HasValue || contentType.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase);
    }

    private readonly record struct Precondition(bool Failed, ReadOnlyMemory<byte>? Record);
}
