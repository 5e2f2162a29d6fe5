using System;
using System.Buffers;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;

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

    private readonly OperationData[] _operations;

    // The public operation objects, created when first asked for: parsing and applying never need them.
    private JsonPatchOperation?[]? _objects;

    private JsonPatchDocument(OperationData[] operations, JsonPatchOperation?[]? objects = null)
    {
        _operations = operations;
        _objects = objects;
    }

    /// <summary>The empty patch, which changes nothing.</summary>
    public static JsonPatchDocument Empty { get; } = new([]);

    /// <summary>The number of operations.</summary>
    public int Count => _operations.Length;

    /// <summary>The operation at <paramref name="index"/>.</summary>
    public JsonPatchOperation this[int index]
    {
        get
        {
            var data = _operations[index];
            var objects = Volatile.Read(ref _objects)
                ?? Interlocked.CompareExchange(ref _objects, new JsonPatchOperation?[_operations.Length], null)
                ?? _objects;

            // Created once per index, so every caller sees the same instance.
            return Volatile.Read(ref objects[index])
                ?? Interlocked.CompareExchange(ref objects[index], new JsonPatchOperation(data), null)
                ?? objects[index]!;
        }
    }

    internal ReadOnlySpan<OperationData> Operations => _operations;

    /// <summary>Builds a patch from operations, in order.</summary>
    public static JsonPatchDocument Create(IEnumerable<JsonPatchOperation> operations)
    {
        ArgumentNullException.ThrowIfNull(operations);
        var objects = new List<JsonPatchOperation>(operations).ToArray();
        var data = new OperationData[objects.Length];
        for (var i = 0; i < objects.Length; i++)
        {
            ArgumentNullException.ThrowIfNull(objects[i], nameof(operations));
            data[i] = objects[i].Data;
        }

        return new JsonPatchDocument(data, objects!);
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
    public static JsonPatchDocument Parse(ReadOnlySpan<byte> utf8Json, JsonPatchParseOptions options) => Parse(utf8Json, options, tryPlain: true);

    /// <summary>Parses with the general parser only: what <see cref="PlainPatchParser"/> must match, for tests.</summary>
    internal static JsonPatchDocument ParseWithReader(ReadOnlySpan<byte> utf8Json, JsonPatchParseOptions options) => Parse(utf8Json, options, tryPlain: false);

    private static JsonPatchDocument Parse(ReadOnlySpan<byte> utf8Json, JsonPatchParseOptions options, bool tryPlain)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!JsonElementChecks.IsUnicodeText(utf8Json))
        {
            // The reader accepts both; left in, they pass through to every client or throw a non-patch exception later.
            ThrowHelper.ThrowPatch(JsonPatchError.MalformedPatch, -1, "The JSON Patch is not valid Unicode text: it has bytes that are not UTF-8 or a \\u escape of an unpaired surrogate (RFC 8259 section 8).");
        }

        var readerOptions = new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = options.MaxDepth };
        var operations = default(OperationBuffer);
        try
        {
            if (!tryPlain || !PlainPatchParser.TryParse(utf8Json, options, ref operations))
            {
                // Anything but the plain form, including every error: read again from the start by the general parser.
                operations.Clear();
                ParseGeneral(utf8Json, options, readerOptions, ref operations);
            }

            return operations.Count == 0 ? Empty : new JsonPatchDocument(operations.ToArray());
        }
        catch (JsonException e)
        {
            throw Malformed(e);
        }
        catch (JsonPatchException e) when (e.OperationIndex >= 0 && !IsWellFormed(utf8Json, readerOptions, out var syntaxError))
        {
            // A patch that is not JSON at all is reported as such, whichever of its operations the reader reached first.
            throw Malformed(syntaxError);
        }
        finally
        {
            operations.Dispose();
        }
    }

    /// <summary>One pass of the reader, building operations as it goes: no JsonDocument for the patch as a whole.</summary>
    private static void ParseGeneral(ReadOnlySpan<byte> utf8Json, JsonPatchParseOptions options, JsonReaderOptions readerOptions, ref OperationBuffer operations)
    {
        var reader = new Utf8JsonReader(utf8Json, readerOptions);
        if (!reader.Read())
        {
            throw new JsonException("The input is empty.");
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            EnsureEnd(ref reader);
            ThrowHelper.ThrowPatch(JsonPatchError.MalformedPatch, -1, $"A JSON Patch must be a JSON array of operations, not {Describe(reader.TokenType)}.");
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (operations.Count == options.MaxOperations)
            {
                ThrowHelper.ThrowPatch(JsonPatchError.MalformedPatch, -1, $"The JSON Patch has more than {options.MaxOperations} operations, the limit.");
            }

            operations.Add(ParseOperation(ref reader, operations.Count));
        }

        EnsureEnd(ref reader);
    }

    private static JsonPatchException Malformed(JsonException e) =>
        new(JsonPatchError.MalformedPatch, -1, $"The JSON Patch is not valid JSON: {e.Message}", e);

    private static void EnsureEnd(ref Utf8JsonReader reader)
    {
        if (reader.Read())
        {
            throw new JsonException("Unexpected content after the patch document's closing ']'.");
        }
    }

    private static bool IsWellFormed(ReadOnlySpan<byte> utf8Json, JsonReaderOptions options, [NotNullWhen(false)] out JsonException? error)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8Json, options);
            if (!reader.Read())
            {
                throw new JsonException("The input is empty.");
            }

            reader.Skip();
            EnsureEnd(ref reader);
            error = null;
            return true;
        }
        catch (JsonException e)
        {
            error = e;
            return false;
        }
    }

    private static OperationData ParseOperation(ref Utf8JsonReader reader, int index)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            ThrowHelper.ThrowPatch(JsonPatchError.InvalidOperation, index, $"Operation {index} must be a JSON object, not {Describe(reader.TokenType)}.");
        }

        Member op = default, path = default, from = default, value = default;
        var type = default(JsonPatchOperationType);
        string? unknownOp = null;
        JsonPointer pathPointer = default, fromPointer = default;
        string? pathError = null, fromError = null;
        var patchValue = PatchValue.None;
        string? duplicate = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            // RFC 6902 section 4: members other than these are ignored. RFC 8259 section 4: names SHOULD be unique,
            // and a patch whose meaning depends on which duplicate a parser keeps is refused.
            var name = ClassifyMember(ref reader);
            if (name == MemberName.Op)
            {
                op = ReadMember(ref reader, op, "op", index);
                if (op.Token == JsonTokenType.String && !TryParseOperationType(ref reader, out type))
                {
                    unknownOp = reader.GetString();
                }
            }
            else if (name == MemberName.Path)
            {
                path = ReadMember(ref reader, path, "path", index);
                pathError = path.Token == JsonTokenType.String ? ReadPointer(ref reader, out pathPointer) : null;
            }
            else if (name == MemberName.From)
            {
                from = ReadMember(ref reader, from, "from", index);
                fromError = from.Token == JsonTokenType.String ? ReadPointer(ref reader, out fromPointer) : null;
            }
            else if (name == MemberName.Value)
            {
                value = ReadMember(ref reader, value, "value", index);
                patchValue = ReadValue(ref reader, ref duplicate);
                continue;
            }
            else
            {
                reader.Read();
            }

            // Whatever was not consumed above (an object or array in the wrong place) is stepped over.
            reader.Skip();
        }

        if (!op.Present)
        {
            ThrowHelper.ThrowPatch(JsonPatchError.InvalidOperation, index, $"Operation {index} has no 'op' member.");
        }

        if (op.Token != JsonTokenType.String)
        {
            ThrowHelper.ThrowPatch(JsonPatchError.InvalidOperation, index, $"Operation {index} has an 'op' that is {Describe(op.Token)}, not a string.");
        }

        if (unknownOp is not null)
        {
            var hint = unknownOp == "update" ? " ('update' is not JSON Patch; an update is 'replace')" : string.Empty;
            ThrowHelper.ThrowPatch(JsonPatchError.InvalidOperation, index, $"Operation {index} has the unknown op '{unknownOp}'{hint}; RFC 6902 defines add, remove, replace, move, copy and test.");
        }

        CheckPointer(path, pathError, "path", index);
        if (type is JsonPatchOperationType.Move or JsonPatchOperationType.Copy)
        {
            CheckPointer(from, fromError, "from", index);
        }
        else
        {
            fromPointer = JsonPointer.Root;
        }

        if (type is JsonPatchOperationType.Add or JsonPatchOperationType.Replace or JsonPatchOperationType.Test)
        {
            if (!value.Present)
            {
                ThrowHelper.ThrowPatch(JsonPatchError.InvalidOperation, index, $"Operation {index} ({JsonPatchOperation.GetName(type)}) has no 'value' member; write \"value\": null for null.");
            }

            if (duplicate is not null)
            {
                ThrowHelper.ThrowPatch(JsonPatchError.InvalidOperation, index, $"Operation {index} has a value with more than one '{duplicate}' member.");
            }
        }
        else
        {
            patchValue = PatchValue.None;
        }

        // The values are the parser's own and never change, so no copy is needed.
        return new OperationData(type, pathPointer, fromPointer, patchValue);
    }

    /// <summary>Steps from a member's name to its value, refusing a second member of the same name.</summary>
    private static Member ReadMember(ref Utf8JsonReader reader, Member seen, string name, int index)
    {
        if (seen.Present)
        {
            ThrowHelper.ThrowPatch(JsonPatchError.InvalidOperation, index, $"Operation {index} has more than one '{name}' member.");
        }

        reader.Read();
        return new Member(true, reader.TokenType);
    }

    private static PatchValue ReadValue(ref Utf8JsonReader reader, ref string? duplicate) => reader.TokenType switch
    {
        JsonTokenType.String => PatchValue.FromString(reader.GetString()!),
        JsonTokenType.Number => PatchValue.FromNumberToken(ref reader),
        JsonTokenType.True => PatchValue.FromBoolean(true),
        JsonTokenType.False => PatchValue.FromBoolean(false),
        JsonTokenType.Null => PatchValue.Null,
        _ => PatchValue.FromContainer(PatchContainer.Read(ref reader, ref duplicate)),
    };

    internal static string? ReadPointer(ref Utf8JsonReader reader, out JsonPointer pointer)
    {
        string? error;
        if (!reader.ValueIsEscaped)
        {
            // The common case: the bytes in the patch are the pointer's UTF-8, looked up as they are.
            return JsonPointer.TryParseCached(reader.ValueSpan, out pointer, out error) ? null : error;
        }

        const int StackLimit = 256;
        if (reader.ValueSpan.Length > StackLimit)
        {
            return JsonPointer.TryParse(reader.GetString(), out pointer, out error) ? null : error;
        }

        Span<byte> utf8 = stackalloc byte[StackLimit];
        var length = reader.CopyString(utf8);
        return JsonPointer.TryParseCached(utf8[..length], out pointer, out error) ? null : error;
    }

    private static void CheckPointer(Member member, string? error, string name, int index)
    {
        if (!member.Present)
        {
            ThrowHelper.ThrowPatch(JsonPatchError.InvalidOperation, index, $"Operation {index} has no '{name}' member.");
        }

        if (member.Token != JsonTokenType.String)
        {
            ThrowHelper.ThrowPatch(JsonPatchError.InvalidOperation, index, $"Operation {index} has a '{name}' that is {Describe(member.Token)}, not a string.");
        }

        if (error is not null)
        {
            ThrowHelper.ThrowPatch(JsonPatchError.InvalidPointer, index, $"Operation {index} has an invalid '{name}': {error}");
        }
    }

    /// <summary>Which member of an operation the reader's property name is; unescaped names are matched on their bytes.</summary>
    private static MemberName ClassifyMember(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped)
        {
            return reader.ValueTextEquals("op"u8) ? MemberName.Op
                : reader.ValueTextEquals("path"u8) ? MemberName.Path
                : reader.ValueTextEquals("from"u8) ? MemberName.From
                : reader.ValueTextEquals("value"u8) ? MemberName.Value
                : MemberName.Other;
        }

        var name = reader.ValueSpan;
        return name.Length switch
        {
            2 when name.SequenceEqual("op"u8) => MemberName.Op,
            4 when name.SequenceEqual("path"u8) => MemberName.Path,
            4 when name.SequenceEqual("from"u8) => MemberName.From,
            5 when name.SequenceEqual("value"u8) => MemberName.Value,
            _ => MemberName.Other,
        };
    }

    private static bool TryParseOperationType(ref Utf8JsonReader reader, out JsonPatchOperationType type)
    {
        if (reader.ValueIsEscaped)
        {
            type = reader.ValueTextEquals("add"u8) ? JsonPatchOperationType.Add
                : reader.ValueTextEquals("remove"u8) ? JsonPatchOperationType.Remove
                : reader.ValueTextEquals("replace"u8) ? JsonPatchOperationType.Replace
                : reader.ValueTextEquals("move"u8) ? JsonPatchOperationType.Move
                : reader.ValueTextEquals("copy"u8) ? JsonPatchOperationType.Copy
                : reader.ValueTextEquals("test"u8) ? JsonPatchOperationType.Test
                : (JsonPatchOperationType)(-1);
            return type >= 0;
        }

        return TryParseOperationType(reader.ValueSpan, out type);
    }

    /// <summary>The operation an unescaped <c>op</c> string names, matched on its UTF-8 bytes.</summary>
    internal static bool TryParseOperationType(ReadOnlySpan<byte> op, out JsonPatchOperationType type)
    {
        type = op.Length switch
        {
            3 when op.SequenceEqual("add"u8) => JsonPatchOperationType.Add,
            4 when op.SequenceEqual("test"u8) => JsonPatchOperationType.Test,
            4 when op.SequenceEqual("move"u8) => JsonPatchOperationType.Move,
            4 when op.SequenceEqual("copy"u8) => JsonPatchOperationType.Copy,
            6 when op.SequenceEqual("remove"u8) => JsonPatchOperationType.Remove,
            7 when op.SequenceEqual("replace"u8) => JsonPatchOperationType.Replace,
            _ => (JsonPatchOperationType)(-1),
        };
        return type >= 0;
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => "missing",
    };

    private enum MemberName
    {
        Other,
        Op,
        Path,
        From,
        Value,
    }

    /// <summary>Whether a member was seen, and the token its value started with.</summary>
    private readonly record struct Member(bool Present, JsonTokenType Token);

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
    /// A <see langword="null"/> document is the JSON value <c>null</c>. The budgets are <see cref="JsonPatchApplyOptions.Default"/>'s.
    /// </summary>
    /// <exception cref="JsonPatchException">An operation failed; the document is exactly as it was.</exception>
    public JsonNode? ApplyTo(JsonNode? document) => ApplyTo(document, JsonPatchApplyOptions.Default);

    /// <summary>Applies the patch to <paramref name="document"/> within <paramref name="options"/>' budgets; see <see cref="ApplyTo(JsonNode?)"/>.</summary>
    /// <exception cref="JsonPatchException">
    /// An operation failed or would exceed a budget (<see cref="JsonPatchError.DocumentTooDeep"/>,
    /// <see cref="JsonPatchError.DocumentTooLarge"/> for copies); the document is exactly as it was.
    /// </exception>
    public JsonNode? ApplyTo(JsonNode? document, JsonPatchApplyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return JsonPatchApplier.Apply(_operations, document, options);
    }

    /// <summary>
    /// Applies the patch to a document held as UTF-8 JSON and writes the result, as compact UTF-8 JSON with
    /// <see cref="MinimalJsonEncoder"/> escaping, to <paramref name="output"/>. Nothing is written when it fails.
    /// </summary>
    /// <exception cref="JsonPatchException">The document is not valid JSON (<see cref="JsonPatchError.MalformedDocument"/>) or an operation failed.</exception>
    public void ApplyTo(ReadOnlySpan<byte> utf8Document, IBufferWriter<byte> output) => ApplyTo(utf8Document, output, JsonPatchApplyOptions.Default);

    /// <summary>
    /// Applies the patch to a document held as UTF-8 JSON within <paramref name="options"/>' budgets and writes the
    /// result to <paramref name="output"/>; see <see cref="ApplyTo(ReadOnlySpan{byte}, IBufferWriter{byte})"/>.
    /// </summary>
    /// <exception cref="JsonPatchException">
    /// The document is not valid JSON, an operation failed, or the result would exceed a budget
    /// (<see cref="JsonPatchError.DocumentTooLarge"/>, <see cref="JsonPatchError.DocumentTooDeep"/>); nothing was written.
    /// </exception>
    public void ApplyTo(ReadOnlySpan<byte> utf8Document, IBufferWriter<byte> output, JsonPatchApplyOptions options)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(options);
        if (options.MaxBytes == long.MaxValue)
        {
            WriteResult(Apply(utf8Document, options), output);
            return;
        }

        // The result's exact size is known only once it is written: written aside first, so a refusal writes nothing.
        var result = ApplyToUtf8(utf8Document, options);
        output.Write(result);
    }

    /// <summary>Applies the patch to a document held as UTF-8 JSON and returns the result as UTF-8 JSON.</summary>
    /// <exception cref="JsonPatchException">The document is not valid JSON or an operation failed.</exception>
    public byte[] ApplyToUtf8(ReadOnlySpan<byte> utf8Document) => ApplyToUtf8(utf8Document, JsonPatchApplyOptions.Default);

    /// <summary>
    /// Applies the patch to a document held as UTF-8 JSON within <paramref name="options"/>' budgets and returns the
    /// result as UTF-8 JSON.
    /// </summary>
    /// <exception cref="JsonPatchException">
    /// The document is not valid JSON, an operation failed, or the result would exceed a budget
    /// (<see cref="JsonPatchError.DocumentTooLarge"/>, <see cref="JsonPatchError.DocumentTooDeep"/>).
    /// </exception>
    public byte[] ApplyToUtf8(ReadOnlySpan<byte> utf8Document, JsonPatchApplyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var output = new ArrayBufferWriter<byte>(utf8Document.Length + 64);
        WriteResult(Apply(utf8Document, options), output);
        if (output.WrittenCount > options.MaxBytes)
        {
            ThrowHelper.ThrowPatch(JsonPatchError.DocumentTooLarge, -1, $"The patched document would be {output.WrittenCount} bytes, over the size limit of {options.MaxBytes} bytes.");
        }

        return output.WrittenSpan.ToArray();
    }

    private JsonNode? Apply(ReadOnlySpan<byte> utf8Document, JsonPatchApplyOptions options)
    {
        if (!JsonElementChecks.IsUnicodeText(utf8Document))
        {
            // Same reason as in Parse: checked up front so that writing the result below cannot fail half-way. Before the
            // parse, too: a member name with an escaped unpaired surrogate makes it throw InvalidOperationException.
            ThrowHelper.ThrowPatch(JsonPatchError.MalformedDocument, -1, "The document to patch is not valid Unicode text: it has bytes that are not UTF-8 or a \\u escape of an unpaired surrogate (RFC 8259 section 8).");
        }

        JsonNode? document;
        try
        {
            // A document may be as deep as the result is allowed to be.
            document = JsonNode.Parse(utf8Document, documentOptions: StrictDocumentOptions with { MaxDepth = Math.Max(options.MaxDepth, 64) });
        }
        catch (JsonException e)
        {
            throw new JsonPatchException(JsonPatchError.MalformedDocument, -1, $"The document to patch is not valid JSON: {e.Message}", e);
        }

        return JsonPatchApplier.Apply(_operations, document, options);
    }

    private static void WriteResult(JsonNode? result, IBufferWriter<byte> output)
    {
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
    public IEnumerator<JsonPatchOperation> GetEnumerator()
    {
        for (var i = 0; i < _operations.Length; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
