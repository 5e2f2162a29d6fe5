using System;
using System.Buffers;
using System.Collections.Generic;
using System.Text.Json;
using Rocket.JsonPatch;

namespace Rocket.Live;

/// <summary>
/// A collection's records and the cursor of that exact state, read together under the collection's writer lock.
/// Subscribing with <see cref="Cursor"/> then yields exactly the changes made after this snapshot.
/// </summary>
/// <remarks>
/// Taking a snapshot copies only references (record values are immutable arrays), so the lock is held for one array
/// copy; the JSON is written afterwards, outside it.
/// </remarks>
public sealed class Snapshot
{
    private readonly KeyValuePair<string, ReadOnlyMemory<byte>>[] _records;

    internal Snapshot(string collection, Cursor cursor, KeyValuePair<string, ReadOnlyMemory<byte>>[] records)
    {
        Collection = collection;
        Cursor = cursor;
        _records = records;
    }

    /// <summary>The name of the collection.</summary>
    public string Collection { get; }

    /// <summary>The cursor of the state this snapshot shows (for a <c>Last-Event-ID</c> response header).</summary>
    public Cursor Cursor { get; }

    /// <summary>The records in insertion order (an update keeps a record's place): id and UTF-8 JSON value.</summary>
    public IReadOnlyList<KeyValuePair<string, ReadOnlyMemory<byte>>> Records => _records;

    /// <summary>Writes the list form, <c>{"&lt;collection&gt;":[record, ...]}</c>, the familiar body of a plain GET.</summary>
    public void WriteList(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        using var json = new Utf8JsonWriter(output, JsonPatchWriter.WriterOptions);
        json.WriteStartObject();
        json.WriteStartArray(Collection);
        foreach (var record in _records)
        {
            json.WriteRawValue(record.Value.Span, skipInputValidation: true);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>
    /// Writes the keyed form, <c>{"&lt;collection&gt;":{"&lt;id&gt;":record, ...}}</c>: the document the stream's
    /// patches apply to.
    /// </summary>
    public void WriteKeyed(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        using var json = new Utf8JsonWriter(output, JsonPatchWriter.WriterOptions);
        json.WriteStartObject();
        json.WriteStartObject(Collection);
        foreach (var record in _records)
        {
            json.WritePropertyName(record.Key);
            json.WriteRawValue(record.Value.Span, skipInputValidation: true);
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>The list form as UTF-8 JSON (see <see cref="WriteList"/>).</summary>
    public byte[] ToListJson()
    {
        var output = new ArrayBufferWriter<byte>(EstimateSize());
        WriteList(output);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>The keyed form as UTF-8 JSON (see <see cref="WriteKeyed"/>).</summary>
    public byte[] ToKeyedJson()
    {
        var output = new ArrayBufferWriter<byte>(EstimateSize());
        WriteKeyed(output);
        return output.WrittenSpan.ToArray();
    }

    private int EstimateSize()
    {
        long size = Collection.Length + 8;
        foreach (var record in _records)
        {
            size += record.Key.Length + record.Value.Length + 4;
        }

        return (int)Math.Min(size, Array.MaxLength);
    }
}
