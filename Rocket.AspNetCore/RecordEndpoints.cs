using System;
using System.Buffers;
using System.Collections.Generic;
using System.Globalization;
using System.Text.Json;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Rocket.JsonPatch;
using Rocket.Live;

namespace Rocket.AspNetCore;

/// <summary>
/// The REST scaffold of one mapped collection: <c>POST</c> to the collection, and <c>GET</c>, <c>PUT</c>,
/// <c>PATCH</c>, <c>DELETE</c> of <c>/{id}</c>, over the collection's <see cref="IRecordStore"/>. Every answer to a
/// write carries the cursor of the event it caused; a refused request changes nothing.
/// </summary>
internal sealed class RecordEndpoints(LiveCollection collection, CollectionHttpServices services)
{
    private string Name => collection.Name;

    private IRecordStore StoreFor(HttpContext context) => services.StoreFor(context, Name);

    /// <summary><c>POST /collection</c>: creates a record; the server assigns its <c>id</c>.</summary>
    public async Task CreateAsync(HttpContext context)
    {
        using var body = await RequestBody.ReadObjectAsync(context, services.Options).ConfigureAwait(false);
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
        if (!await WriteRefusals.TryWriteAsync(context, Name, async () => Keep(await StoreFor(context).CreateAsync(Name, id, record, context.RequestAborted).ConfigureAwait(false), out stored)).ConfigureAwait(false))
        {
            return;
        }

        context.Response.Headers.Location = $"{context.Request.PathBase}{context.Request.Path.Value?.TrimEnd('/')}/{Uri.EscapeDataString(id)}";
        await WriteRecordAsync(context, StatusCodes.Status201Created, stored).ConfigureAwait(false);
    }

    /// <summary><c>GET /collection/{id}</c>, 304 for a matching <c>If-None-Match</c>.</summary>
    public async Task GetAsync(HttpContext context, string id)
    {
        var record = await StoreFor(context).GetAsync(Name, id, context.RequestAborted).ConfigureAwait(false);
        if (record is not { } value)
        {
            await WriteRefusals.NotFoundAsync(context, Name, id).ConfigureAwait(false);
            return;
        }

        var etag = ETags.Of(value.Span);
        if (ETags.Matches(context.Request.Headers.IfNoneMatch, etag, weak: true))
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
        using var body = await RequestBody.ReadObjectAsync(context, services.Options).ConfigureAwait(false);
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
        if (await WriteRefusals.TryWriteAsync(context, Name, async () => Keep(await StoreFor(context).UpdateAsync(Name, id, record, expected.Record, context.RequestAborted).ConfigureAwait(false), out stored)).ConfigureAwait(false))
        {
            await WriteRecordAsync(context, StatusCodes.Status200OK, stored).ConfigureAwait(false);
        }
    }

    /// <summary><c>PATCH /collection/{id}</c> with <c>application/json-patch+json</c>: all or nothing.</summary>
    public async Task PatchAsync(HttpContext context, string id)
    {
        var options = services.Options;
        var bytes = await RequestBody.ReadAsync(context, "application/json-patch+json", options.MaxBodyBytes).ConfigureAwait(false);
        if (bytes is null)
        {
            return;
        }

        JsonPatchDocument patch;
        try
        {
            patch = JsonPatchDocument.Parse(bytes, new JsonPatchParseOptions { MaxDepth = options.MaxDepth, MaxOperations = options.MaxPatchOperations });
        }
        catch (JsonPatchException e)
        {
            await WriteRefusals.PatchRefusedAsync(context, e).ConfigureAwait(false);
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
            await WriteRefusals.NotFoundAsync(context, Name, id).ConfigureAwait(false);
            return;
        }

        // The id rule rides in the patch itself, after the client's operations, so it is checked against the very state
        // the patch is committed on; the client's operations keep their own indexes.
        var checkedPatch = patch;
        var currentElement = JsonElement.Parse(currentRecord.Span);
        if (currentElement.ValueKind == JsonValueKind.Object && currentElement.TryGetProperty("id"u8, out var currentId))
        {
            var operations = new List<JsonPatchOperation>(patch.Count + 1);
            operations.AddRange(patch);
            operations.Add(JsonPatchOperation.Test(JsonPointer.Create("id"), currentId));
            checkedPatch = JsonPatchDocument.Create(operations);
        }

        ReadOnlyMemory<byte> record = default;
        var stored = await WriteRefusals.TryWriteAsync(
            context,
            Name,
            async () =>
            {
                var store = StoreFor(context);
                StoredRecord patched;
                if (expected.Record is { } matched)
                {
                    // If-Match named the record as read: the patch applies to exactly that record, and the result is
                    // written only if the store still holds it (the same compare-and-swap as a conditional PUT).
                    var change = collection.PreparePatch(id, checkedPatch, matched.Span);
                    patched = await store.UpdateAsync(Name, id, change.Value, matched, context.RequestAborted).ConfigureAwait(false);
                }
                else
                {
                    patched = await store.PatchAsync(Name, id, checkedPatch, context.RequestAborted).ConfigureAwait(false);
                }

                record = patched.Record;
                return patched.Cursor;
            },
            failure => failure.OperationIndex >= patch.Count
                ? Problem.WriteAsync(context, StatusCodes.Status409Conflict, "id-is-server-owned", "The id belongs to the server",
                    "The patch changes or removes the record's 'id' member, which belongs to the server.")
                : WriteRefusals.PatchRefusedAsync(context, failure)).ConfigureAwait(false);
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

        if (await WriteRefusals.TryWriteAsync(context, Name, () => StoreFor(context).DeleteAsync(Name, id, expected.Record, context.RequestAborted)).ConfigureAwait(false))
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
            await WriteRefusals.NotFoundAsync(context, Name, id).ConfigureAwait(false);
            return new Precondition(true, null);
        }

        if (!ETags.Matches(ifMatch, ETags.Of(record.Span), weak: false))
        {
            await Problem.WriteAsync(context, StatusCodes.Status412PreconditionFailed, "precondition-failed", "Precondition Failed",
                $"Record '{id}' does not have the ETag given in If-Match: it changed since.").ConfigureAwait(false);
            return new Precondition(true, null);
        }

        return new Precondition(false, record);
    }

    private static async Task WriteRecordAsync(HttpContext context, int status, ReadOnlyMemory<byte> record)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        response.Headers.ETag = ETags.Of(record.Span);
        await response.BodyWriter.WriteAsync(record, context.RequestAborted).ConfigureAwait(false);
    }

    private readonly record struct Precondition(bool Failed, ReadOnlyMemory<byte>? Record);
}
