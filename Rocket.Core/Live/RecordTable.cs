using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Rocket.JsonPatch;

namespace Rocket.Live;

/// <summary>
/// A collection's records, keyed by id and held as immutable UTF-8 JSON arrays (a write replaces the array, never
/// changes it), and the checks a change must pass against them before anything is touched.
/// </summary>
/// <remarks>
/// Not synchronized: the collection calls it under its lock, except <see cref="CheckLimits"/> and
/// <see cref="ApplyPatch"/>, which read only the fixed budgets.
/// </remarks>
internal sealed class RecordTable
{
    private readonly OrderedDictionary<string, byte[]> _records = new(StringComparer.Ordinal);
    private readonly JsonPatchApplyOptions _budget;
    private readonly string _collectionName;
    private readonly string _documentName;

    public RecordTable(string collectionName, string documentName, int maxRecordBytes, int maxRecordDepth)
    {
        _collectionName = collectionName;
        _documentName = documentName;
        _budget = new JsonPatchApplyOptions { MaxBytes = maxRecordBytes, MaxDepth = maxRecordDepth };
    }

    public int Count => _records.Count;

    public bool TryGetValue(string id, [MaybeNullWhen(false)] out byte[] value) => _records.TryGetValue(id, out value);

    // The record, or a RecordNotFound refusal.
    public byte[] GetExisting(string id)
    {
        if (!_records.TryGetValue(id, out var current))
        {
            ThrowHelper.ThrowRefused(ChangeRefusal.RecordNotFound, id, 0, $"Collection '{_collectionName}' has no record '{id}'.");
        }

        return current;
    }

    // A record Check found (the value a diff starts from).
    public byte[] this[string id] => _records[id];

    public void Add(string id, byte[] value) => _records.Add(id, value);

    // The indexer keeps the record's place, so the list form keeps insertion order.
    public void Replace(string id, byte[] value) => _records[id] = value;

    public void Remove(string id) => _records.Remove(id);

    // A source's records as changes checked against the limits; it needs no lock, and touches nothing.
    public List<RecordChange> CheckLoad(IEnumerable<KeyValuePair<string, ReadOnlyMemory<byte>>> records)
    {
        var loaded = new List<RecordChange>();
        foreach (var (id, value) in records)
        {
            var change = RecordChange.Create(id, value.Span);
            CheckLimits(change, loaded.Count);
            loaded.Add(change);
        }

        return loaded;
    }

    // A source's state in place of this one (from CheckLoad).
    public void Load(List<RecordChange> records)
    {
        _records.Clear();
        foreach (var change in records)
        {
            _records[change.Id] = change.ValueArray;
        }
    }

    // The references only (one array), so a snapshot holds the lock briefly and writes its JSON outside it.
    public KeyValuePair<string, ReadOnlyMemory<byte>>[] CopyAll()
    {
        var records = new KeyValuePair<string, ReadOnlyMemory<byte>>[_records.Count];
        var i = 0;
        foreach (var record in _records)
        {
            records[i++] = new(record.Key, record.Value);
        }

        return records;
    }

    // {"<document name>":{"<id>":record, ...}}, the value of a reset.
    public void WriteKeyedDocument(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteStartObject(_documentName);
        foreach (var record in _records)
        {
            json.WritePropertyName(record.Key);
            json.WriteRawValue(record.Value, skipInputValidation: true);
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    // Refuses a change set that cannot apply, before anything is touched.
    public void Check(ChangeSet changes)
    {
        // Changes of one set see the ones before them; only sets of several changes need the overlay.
        Dictionary<string, bool>? staged = changes.Count > 1 ? new(StringComparer.Ordinal) : null;
        for (var i = 0; i < changes.Count; i++)
        {
            var change = changes[i];
            var exists = staged is not null && staged.TryGetValue(change.Id, out var stagedExists)
                ? stagedExists
                : _records.ContainsKey(change.Id);
            switch (change.Kind)
            {
                case RecordChangeKind.Create when exists:
                    ThrowHelper.ThrowRefused(ChangeRefusal.RecordAlreadyExists, change.Id, i, $"Collection '{_collectionName}' already has a record '{change.Id}'.");
                    break;
                case RecordChangeKind.Update or RecordChangeKind.Destroy when !exists:
                    ThrowHelper.ThrowRefused(ChangeRefusal.RecordNotFound, change.Id, i, $"Collection '{_collectionName}' has no record '{change.Id}'.");
                    break;
            }

            if (change.ExpectedArray is { } expected && !(_records.TryGetValue(change.Id, out var current) && expected.AsSpan().SequenceEqual(current)))
            {
                ThrowHelper.ThrowRefused(ChangeRefusal.PreconditionFailed, change.Id, i, $"Record '{change.Id}' of collection '{_collectionName}' changed since it was read.");
            }

            CheckLimits(change, i);
            staged?[change.Id] = change.Kind != RecordChangeKind.Destroy;
        }
    }

    // Refuses a value over the collection's size or depth limit; it needs no lock (the limits are fixed).
    public void CheckLimits(RecordChange change, int index)
    {
        if (change.ValueArray.Length > _budget.MaxBytes)
        {
            ThrowHelper.ThrowRefused(ChangeRefusal.RecordTooLarge, change.Id, index,
                $"Record '{change.Id}' would be {change.ValueArray.Length} bytes, over collection '{_collectionName}''s limit of {_budget.MaxBytes} bytes.");
        }

        if (change.Depth > _budget.MaxDepth)
        {
            ThrowHelper.ThrowRefused(ChangeRefusal.RecordTooDeep, change.Id, index,
                $"Record '{change.Id}' nests {change.Depth} levels deep, deeper than collection '{_collectionName}''s limit of {_budget.MaxDepth}.");
        }
    }

    // The patched record as a checked update, within the collection's size and depth budgets; it needs no lock.
    public RecordChange ApplyPatch(string id, JsonPatchDocument patch, ReadOnlySpan<byte> current)
    {
        byte[] patched;
        try
        {
            patched = patch.ApplyToUtf8(current, _budget);
        }
        catch (JsonPatchException exception)
        {
            var reason = exception.Error switch
            {
                JsonPatchError.DocumentTooLarge => ChangeRefusal.RecordTooLarge,
                JsonPatchError.DocumentTooDeep => ChangeRefusal.RecordTooDeep,
                _ => ChangeRefusal.PatchFailed,
            };
            throw new ChangeRefusedException(reason, id, 0, $"The patch of record '{id}' was refused: {exception.Message}", exception);
        }

        var change = RecordChange.Update(id, patched);
        CheckLimits(change, 0);
        return change;
    }
}
