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

    /// <summary>A pub/sub message: <c>&lt;epoch&gt; &lt;seq&gt; &lt;changes&gt;</c>.</summary>
    public static bool TryParseMessage(ReadOnlySpan<byte> message, out Cursor cursor, out ReadOnlySpan<byte> changes)
    {
        cursor = default;
        changes = default;
        var space = message.IndexOf((byte)' ');
        if (space != 8 || !uint.TryParse(message[..8], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var epoch))
        {
            return false;
        }

        message = message[(space + 1)..];
        space = message.IndexOf((byte)' ');
        if (space < 1 || !Utf8Parser.TryParse(message[..space], out long sequence, out var consumed) || consumed != space)
        {
            return false;
        }

        cursor = new Cursor(epoch, sequence);
        changes = message[(space + 1)..];
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
