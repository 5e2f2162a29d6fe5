using System;
using System.Buffers;
using System.Collections;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Rocket.JsonPatch;

/// <summary>
/// An immutable, reusable RFC 6902 JSON Patch: a list of operations that can be applied to any number of documents,
/// from any number of threads.
/// </summary>
/// <remarks>
/// Applying is all or nothing: if any operation fails, every change the earlier ones made is undone, so the caller's
/// document is exactly as it was (same nodes, same member order), and a <see cref="JsonPatchException"/> names the
/// failing operation.
/// </remarks>
public sealed class JsonPatchDocument : IReadOnlyList<JsonPatchOperation>
{
    private static readonly JsonDocumentOptions StrictDocumentOptions = new()
    {
        AllowDuplicateProperties = false,
        CommentHandling = JsonCommentHandling.Disallow,
    };

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly JsonPatchOperation[] _operations;

    private JsonPatchDocument(JsonPatchOperation[] operations) => _operations = operations;

    /// <summary>The empty patch, which changes nothing.</summary>
    public static JsonPatchDocument Empty { get; } = new([]);

    /// <summary>The number of operations.</summary>
    public int Count => _operations.Length;

    /// <summary>The operation at <paramref name="index"/>.</summary>
    public JsonPatchOperation this[int index] => _operations[index];

    /// <summary>Builds a patch from operations, in order.</summary>
    public static JsonPatchDocument Create(IEnumerable<JsonPatchOperation> operations)
    {
        ArgumentNullException.ThrowIfNull(operations);
        var array = new List<JsonPatchOperation>(operations).ToArray();
        foreach (var operation in array)
        {
            ArgumentNullException.ThrowIfNull(operation, nameof(operations));
        }

        return new JsonPatchDocument(array);
    }

    /// <summary>Parses a JSON Patch document from UTF-8 JSON, with the default <see cref="JsonPatchParseOptions"/>.</summary>
    /// <exception cref="JsonPatchException">The document is malformed; <see cref="JsonPatchException.OperationIndex"/> names the bad operation, or is -1.</exception>
    public static JsonPatchDocument Parse(ReadOnlySpan<byte> utf8Json) => Parse(utf8Json, JsonPatchParseOptions.Default);

    /// <summary>Parses a JSON Patch document from a string, with the default <see cref="JsonPatchParseOptions"/>.</summary>
    /// <exception cref="JsonPatchException">The document is malformed.</exception>
    public static JsonPatchDocument Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        byte[] utf8;
        try
        {
            utf8 = StrictUtf8.GetBytes(json);
        }
        catch (EncoderFallbackException e)
        {
            // Encoding.UTF8 would silently turn an unpaired surrogate into U+FFFD, changing a path or a value.
            throw new JsonPatchException(JsonPatchError.MalformedPatch, -1, "The JSON Patch is not valid Unicode text: it has an unpaired surrogate.", e);
        }

        return Parse(utf8, JsonPatchParseOptions.Default);
    }

    /// <summary>Parses a JSON Patch document from UTF-8 JSON, within the limits of <paramref name="options"/>.</summary>
    /// <exception cref="JsonPatchException">The document is malformed or over a limit.</exception>
    public static JsonPatchDocument Parse(ReadOnlySpan<byte> utf8Json, JsonPatchParseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        JsonElement root;
        try
        {
            var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions
            {
                CommentHandling = JsonCommentHandling.Disallow,
                MaxDepth = options.MaxDepth,
            });
            root = JsonElement.ParseValue(ref reader);
            if (reader.Read())
            {
                throw new JsonException("Unexpected content after the patch document's closing ']'.");
            }
        }
        catch (JsonException e)
        {
            throw new JsonPatchException(JsonPatchError.MalformedPatch, -1, $"The JSON Patch is not valid JSON: {e.Message}", e);
        }

        if (!JsonElementChecks.IsUnicodeText(utf8Json))
        {
            // The reader accepts both; left in, they pass through to every client or throw a non-patch exception later.
            ThrowHelper.ThrowPatch(JsonPatchError.MalformedPatch, -1, "The JSON Patch is not valid Unicode text: it has bytes that are not UTF-8 or a \\u escape of an unpaired surrogate (RFC 8259 section 8).");
        }

        if (root.ValueKind != JsonValueKind.Array)
        {
            ThrowHelper.ThrowPatch(JsonPatchError.MalformedPatch, -1, $"A JSON Patch must be a JSON array of operations, not {Describe(root.ValueKind)}.");
        }

        var count = root.GetArrayLength();
        if (count > options.MaxOperations)
        {
            ThrowHelper.ThrowPatch(JsonPatchError.MalformedPatch, -1, $"The JSON Patch has {count} operations; the limit is {options.MaxOperations}.");
        }

        if (count == 0)
        {
            return Empty;
        }

        var operations = new JsonPatchOperation[count];
        var index = 0;
        foreach (var element in root.EnumerateArray())
        {
            operations[index] = ParseOperation(element, index);
            index++;
        }

        return new JsonPatchDocument(operations);
    }

    private static JsonPatchOperation ParseOperation(JsonElement element, int index)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            ThrowHelper.ThrowPatch(JsonPatchError.InvalidOperation, index, $"Operation {index} must be a JSON object, not {Describe(element.ValueKind)}.");
        }

        JsonElement op = default, path = default, from = default, value = default;
        foreach (var member in element.EnumerateObject())
        {
            // RFC 6902 section 4: members other than these are ignored. RFC 8259 section 4: names SHOULD be unique,
            // and a patch whose meaning depends on which duplicate a parser keeps is refused.
            ref var slot = ref member.NameEquals("op"u8) ? ref op
                : ref member.NameEquals("path"u8) ? ref path
                : ref member.NameEquals("from"u8) ? ref from
                : ref member.NameEquals("value"u8) ? ref value
                : ref Unsafe.NullRef<JsonElement>();
            if (Unsafe.IsNullRef(ref slot))
            {
                continue;
            }

            if (slot.ValueKind != JsonValueKind.Undefined)
            {
                ThrowHelper.ThrowPatch(JsonPatchError.InvalidOperation, index, $"Operation {index} has more than one '{member.Name}' member.");
            }

            slot = member.Value;
        }

        if (op.ValueKind == JsonValueKind.Undefined)
        {
            ThrowHelper.ThrowPatch(JsonPatchError.InvalidOperation, index, $"Operation {index} has no 'op' member.");
        }

        if (op.ValueKind != JsonValueKind.String)
        {
            ThrowHelper.ThrowPatch(JsonPatchError.InvalidOperation, index, $"Operation {index} has an 'op' that is {Describe(op.ValueKind)}, not a string.");
        }

        var type = ParseOperationType(op, index);
        var pathPointer = ParsePointer(path, "path", index);
        var fromPointer = JsonPointer.Root;
        if (type is JsonPatchOperationType.Move or JsonPatchOperationType.Copy)
        {
            fromPointer = ParsePointer(from, "from", index);
        }

        if (type is JsonPatchOperationType.Add or JsonPatchOperationType.Replace or JsonPatchOperationType.Test)
        {
            if (value.ValueKind == JsonValueKind.Undefined)
            {
                ThrowHelper.ThrowPatch(JsonPatchError.InvalidOperation, index, $"Operation {index} ({JsonPatchOperation.GetName(type)}) has no 'value' member; write \"value\": null for null.");
            }

            if (JsonElementChecks.FindDuplicateProperty(value) is { } duplicate)
            {
                ThrowHelper.ThrowPatch(JsonPatchError.InvalidOperation, index, $"Operation {index} has a value with more than one '{duplicate}' member.");
            }
        }
        else
        {
            value = default;
        }

        return JsonPatchOperation.CreateUnsafe(type, pathPointer, fromPointer, value);
    }

    private static JsonPatchOperationType ParseOperationType(JsonElement op, int index)
    {
        if (op.ValueEquals("add"u8))
        {
            return JsonPatchOperationType.Add;
        }

        if (op.ValueEquals("remove"u8))
        {
            return JsonPatchOperationType.Remove;
        }

        if (op.ValueEquals("replace"u8))
        {
            return JsonPatchOperationType.Replace;
        }

        if (op.ValueEquals("move"u8))
        {
            return JsonPatchOperationType.Move;
        }

        if (op.ValueEquals("copy"u8))
        {
            return JsonPatchOperationType.Copy;
        }

        if (op.ValueEquals("test"u8))
        {
            return JsonPatchOperationType.Test;
        }

        var name = op.GetString();
        var hint = name == "update" ? " ('update' is not JSON Patch; an update is 'replace')" : string.Empty;
        throw new JsonPatchException(JsonPatchError.InvalidOperation, index, $"Operation {index} has the unknown op '{name}'{hint}; RFC 6902 defines add, remove, replace, move, copy and test.");
    }

    private static JsonPointer ParsePointer(JsonElement element, string member, int index)
    {
        if (element.ValueKind == JsonValueKind.Undefined)
        {
            ThrowHelper.ThrowPatch(JsonPatchError.InvalidOperation, index, $"Operation {index} has no '{member}' member.");
        }

        if (element.ValueKind != JsonValueKind.String)
        {
            ThrowHelper.ThrowPatch(JsonPatchError.InvalidOperation, index, $"Operation {index} has a '{member}' that is {Describe(element.ValueKind)}, not a string.");
        }

        if (!JsonPointer.TryParse(element.GetString(), out var pointer, out var error))
        {
            ThrowHelper.ThrowPatch(JsonPatchError.InvalidPointer, index, $"Operation {index} has an invalid '{member}': {error}");
        }

        return pointer;
    }

    internal static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "missing",
    };

    /// <summary>
    /// Applies the patch to <paramref name="document"/> and returns the resulting root, which is
    /// <paramref name="document"/> itself unless an operation replaced the whole document (path <c>""</c>).
    /// A <see langword="null"/> document is the JSON value <c>null</c>.
    /// </summary>
    /// <exception cref="JsonPatchException">An operation failed; the document is exactly as it was.</exception>
    public JsonNode? ApplyTo(JsonNode? document) => JsonPatchApplier.Apply(_operations, document);

    /// <summary>
    /// Applies the patch to a document held as UTF-8 JSON and writes the result, as compact UTF-8 JSON with
    /// <see cref="MinimalJsonEncoder"/> escaping, to <paramref name="output"/>. Nothing is written when it fails.
    /// </summary>
    /// <exception cref="JsonPatchException">The document is not valid JSON (<see cref="JsonPatchError.MalformedDocument"/>) or an operation failed.</exception>
    public void ApplyTo(ReadOnlySpan<byte> utf8Document, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        JsonNode? document;
        try
        {
            document = JsonNode.Parse(utf8Document, documentOptions: StrictDocumentOptions);
        }
        catch (JsonException e)
        {
            throw new JsonPatchException(JsonPatchError.MalformedDocument, -1, $"The document to patch is not valid JSON: {e.Message}", e);
        }

        if (!JsonElementChecks.IsUnicodeText(utf8Document))
        {
            // Same reason as in Parse: checked up front so that writing the result below cannot fail half-way.
            ThrowHelper.ThrowPatch(JsonPatchError.MalformedDocument, -1, "The document to patch is not valid Unicode text: it has bytes that are not UTF-8 or a \\u escape of an unpaired surrogate (RFC 8259 section 8).");
        }

        var result = ApplyTo(document);
        using var writer = new Utf8JsonWriter(output, JsonPatchWriter.WriterOptions);
        if (result is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            result.WriteTo(writer);
        }
    }

    /// <summary>Applies the patch to a document held as UTF-8 JSON and returns the result as UTF-8 JSON.</summary>
    /// <exception cref="JsonPatchException">The document is not valid JSON or an operation failed.</exception>
    public byte[] ApplyToUtf8(ReadOnlySpan<byte> utf8Document)
    {
        var output = new ArrayBufferWriter<byte>(utf8Document.Length + 64);
        ApplyTo(utf8Document, output);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>The patch as compact UTF-8 JSON.</summary>
    public byte[] ToUtf8Bytes()
    {
        var output = new ArrayBufferWriter<byte>();
        using (var writer = new JsonPatchWriter(output))
        {
            writer.WritePatch(this);
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>The patch as compact JSON text.</summary>
    public override string ToString() => Encoding.UTF8.GetString(ToUtf8Bytes());

    /// <inheritdoc/>
    public IEnumerator<JsonPatchOperation> GetEnumerator() => ((IEnumerable<JsonPatchOperation>)_operations).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
