using System;
using System.Buffers.Text;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using Rocket.Live;

namespace Rocket.Redis;

/// <summary>
/// A change set as the write script stores and publishes it: for each change three length-prefixed fields (kind, id,
/// value), <c>&lt;byte length&gt;:&lt;bytes&gt;</c> each, so ids and values need no escaping. Replicas rebuild the
/// <see cref="ChangeSet"/> from it and apply it as the node that wrote it did.
/// </summary>
internal static class RedisChanges
{
    public static ChangeSet Decode(ReadOnlySpan<byte> encoded)
    {
        var changes = new List<RecordChange>();
        while (!encoded.IsEmpty)
        {
            var kind = ReadField(ref encoded);
            var id = Encoding.UTF8.GetString(ReadField(ref encoded));
            var value = ReadField(ref encoded);
            changes.Add(kind switch
            {
                [(byte)'c'] => RecordChange.Create(id, value),
                [(byte)'u'] => RecordChange.Update(id, value),
                [(byte)'d'] => RecordChange.Destroy(id),
                _ => throw new FormatException($"Unknown change kind '{Encoding.UTF8.GetString(kind)}' in a Redis log entry."),
            });
        }

        return new ChangeSet(changes);
    }

    /// <summary>
    /// Reads a pub/sub message into its events: either one event, <c>&lt;epoch&gt; &lt;seq&gt; &lt;changes&gt;</c> (a
    /// source's feed), or the writes one batch committed, <c>*&lt;epoch&gt;</c> followed by
    /// <c> &lt;seq&gt; &lt;byte length&gt;:&lt;changes&gt;</c> for each, in sequence order.
    /// </summary>
    /// <returns>False when the message is not in either form (nothing is added then).</returns>
    public static bool TryParseMessage(ReadOnlyMemory<byte> message, List<(Cursor Cursor, ReadOnlyMemory<byte> Changes)> events)
    {
        var span = message.Span;
        if (span.IsEmpty || span[0] != (byte)'*')
        {
            if (!TryParseEvent(span, out var cursor, out var changesAt))
            {
                return false;
            }

            events.Add((cursor, message[changesAt..]));
            return true;
        }

        if (span.Length < 9 || !uint.TryParse(span.Slice(1, 8), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var epoch))
        {
            return false;
        }

        var first = events.Count;
        var at = 9;
        while (at < span.Length)
        {
            var rest = span[at..];
            var space = rest.Length > 1 && rest[0] == (byte)' ' ? rest[1..].IndexOf((byte)' ') : -1;
            if (space < 1 || !Utf8Parser.TryParse(rest.Slice(1, space), out long sequence, out var consumed) || consumed != space)
            {
                events.RemoveRange(first, events.Count - first);
                return false;
            }

            at += space + 2;
            rest = span[at..];
            var colon = rest.IndexOf((byte)':');
            if (colon < 1 || !Utf8Parser.TryParse(rest[..colon], out int length, out consumed) || consumed != colon
                || length < 0 || length > rest.Length - colon - 1)
            {
                events.RemoveRange(first, events.Count - first);
                return false;
            }

            at += colon + 1;
            events.Add((new Cursor(epoch, sequence), message.Slice(at, length)));
            at += length;
        }

        return events.Count > first;
    }

    // One event, <epoch> <seq> <changes>: its cursor, and where its changes start.
    private static bool TryParseEvent(ReadOnlySpan<byte> message, out Cursor cursor, out int changesAt)
    {
        cursor = default;
        changesAt = 0;
        var space = message.IndexOf((byte)' ');
        if (space != 8 || !uint.TryParse(message[..8], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var epoch))
        {
            return false;
        }

        var rest = message[(space + 1)..];
        space = rest.IndexOf((byte)' ');
        if (space < 1 || !Utf8Parser.TryParse(rest[..space], out long sequence, out var consumed) || consumed != space)
        {
            return false;
        }

        cursor = new Cursor(epoch, sequence);
        changesAt = 8 + 1 + space + 1;
        return true;
    }

    public static string Kind(RecordChangeKind kind) => kind switch
    {
        RecordChangeKind.Create => "c",
        RecordChangeKind.Update => "u",
        _ => "d",
    };

    public static string FormatEpoch(uint epoch) => epoch.ToString("x8", CultureInfo.InvariantCulture);

    private static ReadOnlySpan<byte> ReadField(ref ReadOnlySpan<byte> encoded)
    {
        var colon = encoded.IndexOf((byte)':');
        if (colon < 1 || !Utf8Parser.TryParse(encoded[..colon], out int length, out var consumed) || consumed != colon
            || length < 0 || length > encoded.Length - colon - 1)
        {
            throw new FormatException("A Redis log entry is not a list of length-prefixed fields.");
        }

        var field = encoded.Slice(colon + 1, length);
        encoded = encoded[(colon + 1 + length)..];
        return field;
    }
}
