using System;
using System.Buffers;
using System.Text.Json;
using Rocket.JsonPatch;

namespace Rocket.Live;

/// <summary>
/// Turns changes into the JSON Patch of an event, once, in a scratch buffer reused for every event; and builds the
/// reset, the one <c>replace</c> of the whole keyed document, once per state.
/// </summary>
/// <remarks>
/// Not synchronized: the collection calls it under its lock. The patch of <see cref="EncodeAndApply"/> stays in the
/// scratch buffer (<see cref="Patch"/>) until the next call, so the event made from it borrows it and must stop
/// borrowing (<see cref="LiveEvent.KeepPatch"/>) before the lock is released.
/// </remarks>
internal sealed class EventEncoder : IDisposable
{
    // Paths longer than this are built in a pooled array instead of on the stack.
    private const int StackPathLimit = 256;

    private readonly ArrayBufferWriter<byte> _patchBuffer = new(1024);
    private readonly JsonPatchWriter _patchWriter;
    private readonly RecordTable _records;
    private readonly string _collectionName;
    private readonly string _pathPrefix;
    private readonly UpdateEncoding _updateEncoding;
    private LiveEvent? _reset;

    public EventEncoder(string collectionName, string documentName, RecordTable records, UpdateEncoding updateEncoding)
    {
        _collectionName = collectionName;
        _records = records;
        _updateEncoding = updateEncoding;
        _pathPrefix = "/" + JsonPointer.Escape(documentName) + "/";

        // Values were checked when each RecordChange was built; checking them again on the writer would only cost time.
        _patchWriter = new JsonPatchWriter(_patchBuffer, skipValueValidation: true);
    }

    // The patch the last EncodeAndApply wrote, in the scratch buffer.
    public ReadOnlyMemory<byte> Patch => _patchBuffer.WrittenMemory;

    // "[]": the last EncodeAndApply wrote no operation.
    public bool PatchIsEmpty => _patchBuffer.WrittenCount == 2;

    // Makes checked changes to the records and writes their patch into the scratch buffer. The records change, so the
    // reset of the state before is dropped (even when the patch is empty: the records keep the new bytes).
    public void EncodeAndApply(ChangeSet changes)
    {
        Encode(changes, apply: true);
        _reset = null;
    }

    // An event of a source's history (not applied: the records already hold its result), owning a copy of its patch.
    public LiveEvent EncodeFromHistory(Cursor cursor, ChangeSet changes)
    {
        Encode(changes, apply: false);
        return new LiveEvent(_collectionName, cursor, _patchBuffer.WrittenSpan.ToArray(), isReset: false);
    }

    // One reset per state, shared by every subscriber that needs it until the next change. `cursor` is the current state's.
    public LiveEvent GetReset(Cursor cursor)
    {
        if (_reset is not null)
        {
            return _reset;
        }

        StartPatch();
        _patchWriter.WriteReplace(string.Empty, _records, static (json, records) => records.WriteKeyedDocument(json));
        EndPatch();
        _reset = new LiveEvent(_collectionName, cursor, _patchBuffer.WrittenSpan.ToArray(), isReset: true);
        return _reset;
    }

    // The records were replaced (a source loaded the collection).
    public void ForgetReset() => _reset = null;

    public void Dispose() => _patchWriter.Dispose();

    // Writes the changes' patch into the scratch buffer and, with `apply`, makes them to the records. A change from a
    // source's history (not applied: the records already hold its result) is encoded as a whole-record replace, since a
    // diff needs the record it started from.
    private void Encode(ChangeSet changes, bool apply)
    {
        StartPatch();
        Span<char> stackPath = stackalloc char[StackPathLimit];
        foreach (var change in changes)
        {
            var id = change.Id;
            var length = _pathPrefix.Length + JsonPointer.GetEscapedLength(id);
            char[]? rented = null;
            var path = length <= StackPathLimit
                ? stackPath
                : (rented = ArrayPool<char>.Shared.Rent(length));
            _pathPrefix.CopyTo(path);
            var written = _pathPrefix.Length + JsonPointer.Escape(id, path[_pathPrefix.Length..]);
            path = path[..written];

            switch (change.Kind)
            {
                case RecordChangeKind.Create:
                    _patchWriter.WriteAdd(path, change.ValueArray);
                    if (apply)
                    {
                        _records.Add(id, change.ValueArray);
                    }

                    break;
                case RecordChangeKind.Update when !apply:
                    _patchWriter.WriteReplace(path, change.ValueArray);
                    break;
                case RecordChangeKind.Destroy when !apply:
                    _patchWriter.WriteRemove(path);
                    break;
                case RecordChangeKind.Update:
                    if (_updateEncoding == UpdateEncoding.Diff)
                    {
                        WriteDiff(_records[id], change.ValueArray, path);
                    }
                    else
                    {
                        _patchWriter.WriteReplace(path, change.ValueArray);
                    }

                    _records.Replace(id, change.ValueArray);
                    break;
                default:
                    _patchWriter.WriteRemove(path);
                    _records.Remove(id);
                    break;
            }

            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }

        EndPatch();
    }

    private void WriteDiff(byte[] source, byte[] target, ReadOnlySpan<char> path)
    {
        using var before = JsonDocument.Parse(source);
        using var after = JsonDocument.Parse(target);
        JsonPatchDiff.Write(before.RootElement, after.RootElement, _patchWriter, path);
    }

    private void StartPatch()
    {
        _patchBuffer.ResetWrittenCount();
        _patchWriter.Reset(_patchBuffer);
        _patchWriter.WriteStartPatch();
    }

    private void EndPatch()
    {
        _patchWriter.WriteEndPatch();
        _patchWriter.Flush();
    }
}
