using System;
using System.Text.Json;

namespace Rocket.JsonPatch;

/// <summary>
/// One immutable RFC 6902 operation. Build one with the factory methods, or get them from
/// <see cref="JsonPatchDocument.Parse(ReadOnlySpan{byte})"/>.
/// </summary>
public sealed class JsonPatchOperation : IEquatable<JsonPatchOperation>
{
    private JsonPatchOperation(JsonPatchOperationType op, JsonPointer path, JsonPointer from, PatchValue value) =>
        Data = new OperationData(op, path, from, value);

    internal JsonPatchOperation(in OperationData data) => Data = data;

    /// <summary>Which of the six operations this is.</summary>
    public JsonPatchOperationType Op => Data.Op;

    /// <summary>The target location (<c>path</c>).</summary>
    public JsonPointer Path => Data.Path;

    /// <summary>The source location (<c>from</c>) of a <c>move</c> or <c>copy</c>; <see cref="JsonPointer.Root"/> for the others.</summary>
    public JsonPointer From => Data.From;

    /// <summary>
    /// The <c>value</c> of an <c>add</c>, <c>replace</c> or <c>test</c> (a JSON <c>null</c> is a value);
    /// <see cref="JsonValueKind.Undefined"/> for the others.
    /// </summary>
    /// <remarks>Scalars are held compactly and turned into an element on each read of this property.</remarks>
    public JsonElement Value => Data.Value.ToElement();

    internal PatchValue ValueData => Data.Value;

    /// <summary>What a document holds for this operation (a parsed patch holds only these, not the objects).</summary>
    internal OperationData Data { get; }

    /// <summary>Whether the operation has a <c>value</c> member.</summary>
    public bool HasValue => Data.HasValue;

    /// <summary>Whether the operation has a <c>from</c> member.</summary>
    public bool HasFrom => Data.HasFrom;

    /// <summary>An <c>add</c> of <paramref name="value"/> (copied) at <paramref name="path"/>.</summary>
    public static JsonPatchOperation Add(JsonPointer path, JsonElement value) => WithValue(JsonPatchOperationType.Add, path, value);

    /// <summary>A <c>replace</c> of the value at <paramref name="path"/> by <paramref name="value"/> (copied).</summary>
    public static JsonPatchOperation Replace(JsonPointer path, JsonElement value) => WithValue(JsonPatchOperationType.Replace, path, value);

    /// <summary>A <c>test</c> that the value at <paramref name="path"/> equals <paramref name="value"/> (copied).</summary>
    public static JsonPatchOperation Test(JsonPointer path, JsonElement value) => WithValue(JsonPatchOperationType.Test, path, value);

    /// <summary>A <c>remove</c> of the value at <paramref name="path"/>.</summary>
    public static JsonPatchOperation Remove(JsonPointer path) => new(JsonPatchOperationType.Remove, path, default, default);

    /// <summary>A <c>move</c> from <paramref name="from"/> to <paramref name="path"/>.</summary>
    public static JsonPatchOperation Move(JsonPointer from, JsonPointer path) => new(JsonPatchOperationType.Move, path, from, default);

    /// <summary>A <c>copy</c> from <paramref name="from"/> to <paramref name="path"/>.</summary>
    public static JsonPatchOperation Copy(JsonPointer from, JsonPointer path) => new(JsonPatchOperationType.Copy, path, from, default);

    private static JsonPatchOperation WithValue(JsonPatchOperationType op, JsonPointer path, JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Undefined)
        {
            throw new ArgumentException("An add, replace or test needs a value; use a JSON null for null.", nameof(value));
        }

        return new(op, path, default, PatchValue.FromElement(value.Clone()));
    }

    /// <summary>The operation's name as it appears on the wire: <c>add</c>, <c>remove</c> and so on.</summary>
    public static string GetName(JsonPatchOperationType op) => op switch
    {
        JsonPatchOperationType.Add => "add",
        JsonPatchOperationType.Remove => "remove",
        JsonPatchOperationType.Replace => "replace",
        JsonPatchOperationType.Move => "move",
        JsonPatchOperationType.Copy => "copy",
        JsonPatchOperationType.Test => "test",
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    /// <summary>
    /// Equal when op, path, from and value are equal (values compared as JSON, as <c>test</c> compares them: see
    /// <see cref="JsonValueEquality"/>; numbers by value, whatever their exponent).
    /// </summary>
    public bool Equals(JsonPatchOperation? other) =>
        other is not null
        && Op == other.Op
        && Path == other.Path
        && From == other.From
        && (!HasValue || Data.Value.EqualsNode(other.Data.Value.CreateNode()));

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as JsonPatchOperation);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Op, Path, From);

    /// <summary>The operation as one line of JSON, for messages and debugging.</summary>
    public override string ToString()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new JsonPatchWriter(buffer))
        {
            writer.WriteOperation(this);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}

/// <summary>
/// One operation as a parsed patch stores it: a value in the document's array, so parsing allocates no object per
/// operation. <see cref="JsonPatchOperation"/> wraps one for the public API, created when first asked for.
/// </summary>
internal readonly struct OperationData(JsonPatchOperationType op, JsonPointer path, JsonPointer from, PatchValue value)
{
    public JsonPatchOperationType Op { get; } = op;

    public JsonPointer Path { get; } = path;

    public JsonPointer From { get; } = from;

    public PatchValue Value { get; } = value;

    public bool HasValue => Op is JsonPatchOperationType.Add or JsonPatchOperationType.Replace or JsonPatchOperationType.Test;

    public bool HasFrom => Op is JsonPatchOperationType.Move or JsonPatchOperationType.Copy;
}
