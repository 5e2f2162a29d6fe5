using System;
using System.Buffers;
using System.Collections.Generic;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;
using Rocket.JsonPatch;

namespace Rocket.Client;

/// <summary>
/// The client's copy of the keyed document and the cursor of the state it holds: events are applied to it all or
/// nothing, a refetched document replaces it, and readers get immutable snapshots of its records. Thread-safe.
/// </summary>
internal sealed class CollectionCopy
{
    /// <summary>How deeply nested a document or event the client reads: 128, twice the deepest record a server accepts.</summary>
    internal const int ReadDepth = 128;

    // Documents and events wrap a record in up to four levels, and a server may allow records up to 64 deep: the copy is
    // read and patched with room for both, so no record the server accepted can stall the client.
    internal static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = ReadDepth };
    internal static readonly JsonNodeOptions NodeOptions = new() { PropertyNameCaseInsensitive = false };
    private static readonly JsonPatchParseOptions PatchOptions = new() { MaxDepth = ReadDepth };
    private static readonly JsonPatchApplyOptions ApplyOptions = new() { MaxDepth = ReadDepth };

    private readonly Lock _gate = new();
    private readonly bool _legacyUpdateAsReplace;
    private JsonObject _document;
    private string? _cursor;
    private IReadOnlyDictionary<string, JsonElement>? _records;

    // The last typed view handed out (GetRecords<T>), keyed by what made it; dropped with the snapshot it was made from.
    private object? _typedKey;
    private object? _typed;

    public CollectionCopy(string collectionName, bool legacyUpdateAsReplace)
    {
        CollectionName = collectionName;
        _legacyUpdateAsReplace = legacyUpdateAsReplace;
        _document = new JsonObject { [collectionName] = new JsonObject() };
    }

    public string CollectionName { get; }

    public string? Cursor
    {
        get
        {
            lock (_gate)
            {
                return _cursor;
            }
        }
    }

    public IReadOnlyDictionary<string, JsonElement> Records
    {
        get
        {
            lock (_gate)
            {
                return RecordsLocked();
            }
        }
    }

    /// <summary>
    /// The records converted by <paramref name="convert"/>, which is called once per snapshot and
    /// <paramref name="key"/> (the type and serializer settings): reading the same view again costs nothing.
    /// </summary>
    public IReadOnlyDictionary<string, T> Typed<T>(object key, Func<JsonElement, T> convert)
    {
        IReadOnlyDictionary<string, JsonElement> records;
        lock (_gate)
        {
            if (ReferenceEquals(_typedKey, key) && _typed is IReadOnlyDictionary<string, T> cached)
            {
                return cached;
            }

            records = RecordsLocked();
        }

        // Converted outside the lock (the app's converters may be slow); kept only if no change came meanwhile.
        var typed = new Dictionary<string, T>(records.Count, StringComparer.Ordinal);
        foreach (var (id, record) in records)
        {
            typed[id] = convert(record);
        }

        lock (_gate)
        {
            if (ReferenceEquals(_records, records))
            {
                (_typedKey, _typed) = (key, typed);
            }
        }

        return typed;
    }

    public string ToJson(bool indented)
    {
        lock (_gate)
        {
            return _document.ToJsonString(new JsonSerializerOptions { WriteIndented = indented, MaxDepth = ReadDepth });
        }
    }

    /// <summary>Applies one stream event; false (with why) when it cannot be applied and the document must be fetched again.</summary>
    public bool TryApply(StreamEvent item, out CollectionChange? change, out string? failure)
    {
        change = null;
        JsonPatchDocument patch;
        try
        {
            patch = ParsePatch(item.Patch.Span);
        }
        catch (JsonPatchException e)
        {
            failure = $"the event {item.Cursor} is not a JSON Patch: {e.Message}";
            return false;
        }

        var isReset = item.IsReset ?? (patch.Count == 1 && patch[0].Op == JsonPatchOperationType.Replace && patch[0].Path.IsRoot);
        lock (_gate)
        {
            JsonNode? result;
            try
            {
                // All or nothing: on failure the copy is exactly as it was, and is then replaced by a fresh GET.
                result = patch.ApplyTo(_document, ApplyOptions);
            }
            catch (JsonPatchException e)
            {
                failure = $"the event {item.Cursor} did not apply to the copy: {e.Message}";
                return false;
            }

            if (result is not JsonObject document || document[CollectionName] is not JsonObject records)
            {
                failure = $"the event {item.Cursor} left no '{CollectionName}' object in the document";
                return false;
            }

            _document = document;
            _cursor = item.Cursor ?? _cursor;
            Invalidate();
            change = new CollectionChange(
                isReset ? CollectionChangeKind.Reset : CollectionChangeKind.Patch,
                _cursor,
                patch,
                isReset ? KeysOf(records) : AffectedIds(patch, CollectionName),
                reason: null);
        }

        failure = null;
        return true;
    }

    /// <summary>Replaces the copy with a fetched document; returns the change that reports it.</summary>
    public CollectionChange Replace(JsonObject document, string? cursor, string? reason)
    {
        lock (_gate)
        {
            _document = document;
            _cursor = cursor;
            Invalidate();
            return new CollectionChange(CollectionChangeKind.Refetch, cursor, [], KeysOf(document[CollectionName]!.AsObject()), reason);
        }
    }

    /// <summary>Forgets the cursor (the copy stays): the next stream starts with a reset.</summary>
    public void ForgetCursor()
    {
        lock (_gate)
        {
            _cursor = null;
        }
    }

    private IReadOnlyDictionary<string, JsonElement> RecordsLocked() => _records ??= BuildRecords(_document[CollectionName]!.AsObject());

    private void Invalidate()
    {
        _records = null;
        _typedKey = null;
        _typed = null;
    }

    private static string[] KeysOf(JsonObject records)
    {
        var keys = new string[records.Count];
        var i = 0;
        foreach (var pair in records)
        {
            keys[i++] = pair.Key;
        }

        return keys;
    }

    private static List<string> AffectedIds(JsonPatchDocument patch, string name)
    {
        var ids = new List<string>(patch.Count);
        foreach (var operation in patch)
        {
            Note(ids, operation.Path, name);
            if (operation.HasFrom)
            {
                Note(ids, operation.From, name);
            }
        }

        return ids;

        static void Note(List<string> ids, JsonPointer pointer, string name)
        {
            if (pointer.Count >= 2 && pointer[0] == name && !ids.Contains(pointer[1]))
            {
                ids.Add(pointer[1]);
            }
        }
    }

    private static Dictionary<string, JsonElement> BuildRecords(JsonObject records)
    {
        // One serialization into one immutable element tree, shared by the snapshot's records.
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            records.WriteTo(writer);
        }

        var reader = new Utf8JsonReader(buffer.WrittenSpan, new JsonReaderOptions { MaxDepth = ReadDepth });
        var root = JsonElement.ParseValue(ref reader);
        var result = new Dictionary<string, JsonElement>(records.Count, StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
        {
            result[property.Name] = property.Value;
        }

        return result;
    }

    private JsonPatchDocument ParsePatch(ReadOnlySpan<byte> utf8Patch)
    {
        try
        {
            return JsonPatchDocument.Parse(utf8Patch, PatchOptions);
        }
        catch (JsonPatchException) when (_legacyUpdateAsReplace && utf8Patch.IndexOf("\"update\""u8) >= 0)
        {
            // The 2013 servers' "op":"update" meant replace. Rewritten here, behind an explicit option, and nowhere else.
            if (JsonNode.Parse(utf8Patch, NodeOptions, DocumentOptions) is not JsonArray operations)
            {
                throw;
            }

            foreach (var operation in operations)
            {
                if (operation is JsonObject o && o["op"] is JsonValue op && op.TryGetValue<string>(out var name) && name == "update")
                {
                    o["op"] = "replace";
                }
            }

            return JsonPatchDocument.Parse(Encoding.UTF8.GetBytes(operations.ToJsonString()), PatchOptions);
        }
    }
}
