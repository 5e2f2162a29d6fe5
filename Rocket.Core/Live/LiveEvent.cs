using System;
using System.Buffers;
using System.Threading;
using Rocket.Transports;

namespace Rocket.Live;

/// <summary>
/// One event of a collection's stream: its cursor and its JSON Patch, encoded once as compact UTF-8 JSON.
/// </summary>
/// <remarks>
/// An event is immutable. The collection frames it at most once per transport kind (<see cref="IEventFramer.Kind"/>)
/// and hands the same framed bytes to every subscriber of that kind; the bytes are owned by the event (plain arrays, not
/// pooled), so a transport may hold them as long as it likes and nothing is ever returned to a pool too early. When the
/// first frame built for a published event carries the patch byte for byte (every built-in framer's does), the event's
/// <see cref="Patch"/> is that part of the frame rather than an array of its own: one array per event fewer.
/// </remarks>
public sealed class LiveEvent
{
    private ReadOnlyMemory<byte> _patch;
    private IEventFramer? _framer0;
    private byte[]? _frame0;
    private (IEventFramer Framer, byte[] Frame)[]? _moreFrames;

    /// <summary>Creates an event.</summary>
    /// <param name="collection">The name of the collection it belongs to.</param>
    /// <param name="cursor">Its cursor.</param>
    /// <param name="utf8Patch">The JSON Patch array, as UTF-8 JSON on one line; the event keeps this array, not a copy.</param>
    /// <param name="isReset">Whether it is a reset (one <c>replace</c> of the whole keyed document).</param>
    public LiveEvent(string collection, Cursor cursor, byte[] utf8Patch, bool isReset)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(utf8Patch);
        Collection = collection;
        Cursor = cursor;
        _patch = utf8Patch;
        IsReset = isReset;
    }

    // A published event whose patch is still in the collection's scratch buffer, borrowed until KeepPatch (under the
    // collection's lock, before anything else can see the event).
    internal LiveEvent(string collection, Cursor cursor, ReadOnlyMemory<byte> borrowedPatch)
    {
        Collection = collection;
        Cursor = cursor;
        _patch = borrowedPatch;
    }

    // When it was published (Stopwatch ticks), for the delivery-lag histogram; 0 when nothing measures it.
    internal long PublishedTimestamp { get; set; }

    /// <summary>The name of the collection the event belongs to.</summary>
    public string Collection { get; }

    /// <summary>The cursor of the state after the event.</summary>
    public Cursor Cursor { get; }

    /// <summary>The JSON Patch array as compact UTF-8 JSON, with no line break.</summary>
    public ReadOnlyMemory<byte> Patch => _patch;

    /// <summary>
    /// Whether the event is a reset: <c>[{"op":"replace","path":"","value":{"&lt;collection&gt;":{...}}}]</c>, sent
    /// first to a subscriber that had no usable cursor.
    /// </summary>
    public bool IsReset { get; }

    // Built only under the owning collection's lock, so the cache needs no synchronization of its own for writers.
    internal byte[] GetFrame(IEventFramer framer, ArrayBufferWriter<byte> scratch)
    {
        if (FindFrame(framer) is { } known)
        {
            return known;
        }

        scratch.ResetWrittenCount();
        framer.Frame(this, scratch);
        var framed = scratch.WrittenSpan.ToArray();
        if (_framer0 is null)
        {
            _frame0 = framed;
            Volatile.Write(ref _framer0, framer);
        }
        else
        {
            // Rare: a second transport kind on the same collection. A tiny array, grown by one.
            var more = _moreFrames ?? [];
            Array.Resize(ref more, more.Length + 1);
            more[^1] = (framer, framed);
            Volatile.Write(ref _moreFrames, more);
        }

        return framed;
    }

    // Stops borrowing the patch: keeps it as the part of `frame` that carries it byte for byte, or, when there is no
    // frame (no subscriber yet) or it does not carry the patch as it is, as a copy of its own. Under the collection's lock.
    internal void KeepPatch(byte[]? frame)
    {
        var patch = _patch.Span;
        var at = frame is null ? -1 : frame.AsSpan().IndexOf(patch);
        _patch = at >= 0 ? frame.AsMemory(at, patch.Length) : patch.ToArray();
    }

    // The frame already built for framer's kind, or null. Safe without the lock for a subscriber of that kind: its frame
    // was built (under the lock) before the event was enqueued to it, the first framer and its frame never change, and
    // a second kind replaces the array of further frames rather than changing it.
    internal byte[]? FindFrame(IEventFramer framer)
    {
        var first = Volatile.Read(ref _framer0);
        if (first is not null && (ReferenceEquals(framer, first) || SameKind(framer, first)))
        {
            return _frame0;
        }

        var more = Volatile.Read(ref _moreFrames);
        if (more is not null)
        {
            foreach (var (known, frame) in more)
            {
                if (ReferenceEquals(framer, known) || SameKind(framer, known))
                {
                    return frame;
                }
            }
        }

        return null;
    }

    private static bool SameKind(IEventFramer a, IEventFramer b) => string.Equals(a.Kind, b.Kind, StringComparison.Ordinal);
}
