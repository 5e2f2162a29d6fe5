using System;
using System.Buffers;
using System.Text.Json;

namespace Rocket.JsonPatch;

/// <summary>
/// Writes a JSON Patch document straight into an <see cref="IBufferWriter{T}"/> of UTF-8 bytes, with no allocation in
/// steady state. One writer is meant to be kept and <see cref="Reset(IBufferWriter{byte})"/> for each patch.
/// </summary>
/// <remarks>
/// <para>
/// Call <see cref="WriteStartPatch"/>, then one <c>Write…</c> per operation, then <see cref="WriteEndPatch"/> and
/// <see cref="Flush"/>. The output is compact JSON on one line (no line breaks anywhere, so it fits an SSE
/// <c>data:</c> line), with member order <c>op, path, from, value</c>.
/// </para>
/// <para>
/// Strings Rocket writes (paths, and strings inside <see cref="JsonElement"/> or callback values) use
/// <see cref="MinimalJsonEncoder"/>: only <c>"</c>, <c>\</c> and control characters are escaped. A value given as raw
/// UTF-8 JSON is copied verbatim after it is checked to be one well-formed JSON value (unless the writer was made
/// with <c>skipValueValidation</c>, for callers whose bytes are already known to be valid).
/// </para>
/// <para>
/// Paths are given in their RFC 6901 string form and are checked (empty or starting with <c>/</c>, every <c>~</c>
/// followed by <c>0</c> or <c>1</c>, no unpaired surrogate); a bad one throws <see cref="ArgumentException"/> before anything is written.
/// </para>
/// </remarks>
public sealed class JsonPatchWriter : IDisposable
{
    private static readonly JsonEncodedText OpName = JsonEncodedText.Encode("op"u8, MinimalJsonEncoder.Instance);
    private static readonly JsonEncodedText PathName = JsonEncodedText.Encode("path"u8, MinimalJsonEncoder.Instance);
    private static readonly JsonEncodedText FromName = JsonEncodedText.Encode("from"u8, MinimalJsonEncoder.Instance);
    private static readonly JsonEncodedText ValueName = JsonEncodedText.Encode("value"u8, MinimalJsonEncoder.Instance);
    private static readonly JsonEncodedText AddName = JsonEncodedText.Encode("add"u8, MinimalJsonEncoder.Instance);
    private static readonly JsonEncodedText RemoveName = JsonEncodedText.Encode("remove"u8, MinimalJsonEncoder.Instance);
    private static readonly JsonEncodedText ReplaceName = JsonEncodedText.Encode("replace"u8, MinimalJsonEncoder.Instance);
    private static readonly JsonEncodedText MoveName = JsonEncodedText.Encode("move"u8, MinimalJsonEncoder.Instance);
    private static readonly JsonEncodedText CopyName = JsonEncodedText.Encode("copy"u8, MinimalJsonEncoder.Instance);
    private static readonly JsonEncodedText TestName = JsonEncodedText.Encode("test"u8, MinimalJsonEncoder.Instance);

    /// <summary>The options of every <see cref="Utf8JsonWriter"/> Rocket writes JSON with: compact, minimal escaping.</summary>
    public static JsonWriterOptions WriterOptions { get; } = new() { Encoder = MinimalJsonEncoder.Instance, Indented = false };

    private readonly Utf8JsonWriter _json;
    private readonly bool _skipValueValidation;

    /// <summary>Creates a writer over <paramref name="output"/>.</summary>
    /// <param name="output">Where the UTF-8 bytes go.</param>
    /// <param name="skipValueValidation">
    /// When <see langword="true"/>, raw UTF-8 values are copied without checking that they are well-formed JSON.
    /// Default <see langword="false"/>: validate, because one bad value would corrupt the whole event for every client.
    /// </param>
    public JsonPatchWriter(IBufferWriter<byte> output, bool skipValueValidation = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        _json = new Utf8JsonWriter(output, WriterOptions);
        _skipValueValidation = skipValueValidation;
    }

    /// <summary>Bytes written and flushed to the output so far.</summary>
    public long BytesCommitted => _json.BytesCommitted;

    /// <summary>Bytes written but not yet flushed to the output.</summary>
    public int BytesPending => _json.BytesPending;

    /// <summary>Clears the writer's state and points it at <paramref name="output"/>, so it can write another patch.</summary>
    public void Reset(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _json.Reset(output);
    }

    /// <summary>Clears the writer's state, keeping its output.</summary>
    public void Reset() => _json.Reset();

    /// <summary>Writes the opening <c>[</c> of the patch document.</summary>
    public void WriteStartPatch() => _json.WriteStartArray();

    /// <summary>Writes the closing <c>]</c> of the patch document.</summary>
    public void WriteEndPatch() => _json.WriteEndArray();

    /// <summary>Commits what was written to the output.</summary>
    public void Flush() => _json.Flush();

    /// <summary>Writes an <c>add</c> whose value is raw UTF-8 JSON.</summary>
    public void WriteAdd(ReadOnlySpan<char> path, ReadOnlySpan<byte> utf8JsonValue) => WriteWithRawValue(AddName, path, utf8JsonValue);

    /// <summary>Writes an <c>add</c> whose value is a <see cref="JsonElement"/>.</summary>
    public void WriteAdd(ReadOnlySpan<char> path, JsonElement value) => WriteWithElement(AddName, path, value);

    /// <summary>Writes an <c>add</c> whose value the callback writes in place (exactly one JSON value).</summary>
    public void WriteAdd<TState>(ReadOnlySpan<char> path, TState state, Action<Utf8JsonWriter, TState> writeValue) =>
        WriteWithCallback(AddName, path, state, writeValue);

    /// <summary>Writes a <c>replace</c> whose value is raw UTF-8 JSON.</summary>
    public void WriteReplace(ReadOnlySpan<char> path, ReadOnlySpan<byte> utf8JsonValue) => WriteWithRawValue(ReplaceName, path, utf8JsonValue);

    /// <summary>Writes a <c>replace</c> whose value is a <see cref="JsonElement"/>.</summary>
    public void WriteReplace(ReadOnlySpan<char> path, JsonElement value) => WriteWithElement(ReplaceName, path, value);

    /// <summary>Writes a <c>replace</c> whose value the callback writes in place (exactly one JSON value).</summary>
    public void WriteReplace<TState>(ReadOnlySpan<char> path, TState state, Action<Utf8JsonWriter, TState> writeValue) =>
        WriteWithCallback(ReplaceName, path, state, writeValue);

    /// <summary>Writes a <c>test</c> whose value is raw UTF-8 JSON.</summary>
    public void WriteTest(ReadOnlySpan<char> path, ReadOnlySpan<byte> utf8JsonValue) => WriteWithRawValue(TestName, path, utf8JsonValue);

    /// <summary>Writes a <c>test</c> whose value is a <see cref="JsonElement"/>.</summary>
    public void WriteTest(ReadOnlySpan<char> path, JsonElement value) => WriteWithElement(TestName, path, value);

    /// <summary>Writes a <c>test</c> whose value the callback writes in place (exactly one JSON value).</summary>
    public void WriteTest<TState>(ReadOnlySpan<char> path, TState state, Action<Utf8JsonWriter, TState> writeValue) =>
        WriteWithCallback(TestName, path, state, writeValue);

    /// <summary>Writes a <c>remove</c>.</summary>
    public void WriteRemove(ReadOnlySpan<char> path)
    {
        WriteHead(RemoveName, path);
        _json.WriteEndObject();
    }

    /// <summary>Writes a <c>move</c>.</summary>
    public void WriteMove(ReadOnlySpan<char> from, ReadOnlySpan<char> path) => WriteWithFrom(MoveName, from, path);

    /// <summary>Writes a <c>copy</c>.</summary>
    public void WriteCopy(ReadOnlySpan<char> from, ReadOnlySpan<char> path) => WriteWithFrom(CopyName, from, path);

    /// <summary>Writes one parsed or constructed operation.</summary>
    public void WriteOperation(JsonPatchOperation operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        WriteOperation(operation.Data);
    }

    private void WriteOperation(OperationData operation)
    {
        var path = operation.Path.ToString();
        switch (operation.Op)
        {
            case JsonPatchOperationType.Add:
                WriteAdd(path, operation, static (json, op) => op.Value.WriteTo(json));
                break;
            case JsonPatchOperationType.Remove:
                WriteRemove(path);
                break;
            case JsonPatchOperationType.Replace:
                WriteReplace(path, operation, static (json, op) => op.Value.WriteTo(json));
                break;
            case JsonPatchOperationType.Move:
                WriteMove(operation.From.ToString(), path);
                break;
            case JsonPatchOperationType.Copy:
                WriteCopy(operation.From.ToString(), path);
                break;
            case JsonPatchOperationType.Test:
                WriteTest(path, operation, static (json, op) => op.Value.WriteTo(json));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(operation));
        }
    }

    /// <summary>Writes a whole patch document, brackets included.</summary>
    public void WritePatch(JsonPatchDocument patch)
    {
        ArgumentNullException.ThrowIfNull(patch);
        WriteStartPatch();
        foreach (var operation in patch.Operations)
        {
            WriteOperation(operation);
        }

        WriteEndPatch();
    }

    /// <summary>Flushes and releases the underlying <see cref="Utf8JsonWriter"/>.</summary>
    public void Dispose() => _json.Dispose();

    private void WriteWithRawValue(JsonEncodedText op, ReadOnlySpan<char> path, ReadOnlySpan<byte> utf8JsonValue)
    {
        // Not-UTF-8 bytes and unpaired \u escapes pass the reader, so they are checked on their own (RFC 8259 section 8).
        if (!_skipValueValidation && !(IsOneJsonValue(utf8JsonValue) && JsonElementChecks.IsUnicodeText(utf8JsonValue)))
        {
            throw new ArgumentException("The value is not one well-formed JSON value in valid Unicode text.", nameof(utf8JsonValue));
        }

        // Insignificant whitespace may hold line breaks, and the output must stay on one line (an SSE data: line): such
        // a value is rewritten compactly. JSON strings cannot hold a raw line break, so the check is exact.
        var hasLineBreak = utf8JsonValue.IndexOfAny((byte)'\r', (byte)'\n') >= 0;
        JsonDocument? compact = null;
        if (hasLineBreak)
        {
            try
            {
                compact = JsonDocument.Parse(utf8JsonValue.ToArray());
            }
            catch (JsonException e)
            {
                throw new ArgumentException("The value is not one well-formed JSON value.", nameof(utf8JsonValue), e);
            }
        }

        using (compact)
        {
            WriteHead(op, path);
            _json.WritePropertyName(ValueName);
            if (compact is null)
            {
                _json.WriteRawValue(utf8JsonValue, skipInputValidation: true);
            }
            else
            {
                compact.RootElement.WriteTo(_json);
            }

            _json.WriteEndObject();
        }
    }

    private void WriteWithElement(JsonEncodedText op, ReadOnlySpan<char> path, JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Undefined)
        {
            throw new ArgumentException("The value is undefined; use a JSON null for null.", nameof(value));
        }

        WriteHead(op, path);
        _json.WritePropertyName(ValueName);
        value.WriteTo(_json);
        _json.WriteEndObject();
    }

    private void WriteWithCallback<TState>(JsonEncodedText op, ReadOnlySpan<char> path, TState state, Action<Utf8JsonWriter, TState> writeValue)
    {
        ArgumentNullException.ThrowIfNull(writeValue);
        WriteHead(op, path);
        _json.WritePropertyName(ValueName);
        writeValue(_json, state);
        _json.WriteEndObject();
    }

    private void WriteWithFrom(JsonEncodedText op, ReadOnlySpan<char> from, ReadOnlySpan<char> path)
    {
        ThrowIfInvalidPointer(from, nameof(from));
        WriteHead(op, path);
        _json.WriteString(FromName, from);
        _json.WriteEndObject();
    }

    private void WriteHead(JsonEncodedText op, ReadOnlySpan<char> path)
    {
        ThrowIfInvalidPointer(path, nameof(path));
        _json.WriteStartObject();
        _json.WriteString(OpName, op);
        _json.WriteString(PathName, path);
    }

    private static void ThrowIfInvalidPointer(ReadOnlySpan<char> pointer, string paramName)
    {
        if (!IsValidPointer(pointer))
        {
            ThrowHelper.ThrowInvalidPointerArgument(paramName);
        }
    }

    internal static bool IsValidPointer(ReadOnlySpan<char> pointer)
    {
        if (pointer.IsEmpty)
        {
            return true;
        }

        if (pointer[0] != '/')
        {
            return false;
        }

        // An unpaired surrogate is not Unicode text; Utf8JsonWriter drops it silently, which would write another path.
        if (pointer.IndexOfAnyInRange('\uD800', '\uDFFF') >= 0 && !HasOnlyPairedSurrogates(pointer))
        {
            return false;
        }

        var tilde = pointer.IndexOf('~');
        while (tilde >= 0)
        {
            if (tilde + 1 >= pointer.Length || pointer[tilde + 1] is not ('0' or '1'))
            {
                return false;
            }

            var next = pointer[(tilde + 2)..].IndexOf('~');
            tilde = next < 0 ? -1 : tilde + 2 + next;
        }

        return true;
    }

    internal static bool HasOnlyPairedSurrogates(ReadOnlySpan<char> text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsOneJsonValue(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        try
        {
            return reader.Read() && reader.TrySkip() && !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
