using System;
using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;

namespace Rocket.Live;

/// <summary>
/// The position of an event in a collection's stream: an epoch and a sequence number. Clients treat it as opaque text
/// (SSE <c>id:</c>, <c>Last-Event-ID</c>); its text form is <c>&lt;epoch&gt;.&lt;sequence&gt;</c>, eight lowercase hex
/// digits, a dot, and a decimal number, e.g. <c>7f3a09c1.42</c>.
/// </summary>
/// <remarks>
/// <para>
/// The sequence is strictly increasing within an epoch; the epoch changes whenever the history it counts is lost (a
/// restarted process draws a fresh random one), so a cursor from before a restart is never mistaken for a current one.
/// </para>
/// <para>
/// The text is safe ASCII with no CR, LF or NUL, so it can go verbatim into an SSE <c>id:</c> line or an HTTP header.
/// <see cref="TryParse(ReadOnlySpan{char}, out Cursor)"/> never throws: garbage from a client only means "reset".
/// </para>
/// </remarks>
public readonly struct Cursor : IEquatable<Cursor>
{
    /// <summary>The longest text form: 8 hex digits, a dot, and 19 decimal digits.</summary>
    public const int MaxLength = 8 + 1 + 19;

    private const int EpochLength = 8;

    /// <summary>Creates a cursor.</summary>
    /// <param name="epoch">The epoch; any value, 0 included.</param>
    /// <param name="sequence">The sequence number; 0 is the state before the first event.</param>
    public Cursor(uint epoch, long sequence)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        Epoch = epoch;
        Sequence = sequence;
    }

    /// <summary>The epoch: which run of the log this cursor belongs to.</summary>
    public uint Epoch { get; }

    /// <summary>The number of events the collection had published when this cursor was current.</summary>
    public long Sequence { get; }

    /// <summary>Draws a random, non-zero epoch from a cryptographic source, so two runs practically never share one.</summary>
    public static uint NewEpoch()
    {
        Span<byte> bytes = stackalloc byte[sizeof(uint)];
        uint epoch;
        do
        {
            RandomNumberGenerator.Fill(bytes);
            epoch = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        }
        while (epoch == 0);

        return epoch;
    }

    /// <summary>Parses the text form. Returns <see langword="false"/> (never throws) for anything that is not one.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out Cursor cursor)
    {
        cursor = default;
        if (text.Length < EpochLength + 2 || text.Length > MaxLength || text[EpochLength] != '.')
        {
            return false;
        }

        uint epoch = 0;
        for (var i = 0; i < EpochLength; i++)
        {
            var c = text[i];
            int digit;
            if (char.IsAsciiDigit(c))
            {
                digit = c - '0';
            }
            else if (c is >= 'a' and <= 'f')
            {
                // Lowercase only: one cursor has exactly one text form, so clients may compare them as strings.
                digit = c - 'a' + 10;
            }
            else
            {
                return false;
            }

            epoch = (epoch << 4) | (uint)digit;
        }

        long sequence = 0;
        foreach (var c in text[(EpochLength + 1)..])
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            var digit = c - '0';
            if (sequence > (long.MaxValue - digit) / 10)
            {
                return false;
            }

            sequence = (sequence * 10) + digit;
        }

        cursor = new Cursor(epoch, sequence);
        return true;
    }

    /// <summary>Parses the text form; <see langword="null"/> or garbage gives <see langword="false"/>.</summary>
    public static bool TryParse(string? text, out Cursor cursor)
    {
        if (text is null)
        {
            cursor = default;
            return false;
        }

        return TryParse(text.AsSpan(), out cursor);
    }

    /// <summary>Writes the text form as UTF-16; at most <see cref="MaxLength"/> characters.</summary>
    public bool TryFormat(Span<char> destination, out int charsWritten)
    {
        charsWritten = 0;
        if (destination.Length < EpochLength + 2
            || !Epoch.TryFormat(destination, out _, "x8", CultureInfo.InvariantCulture))
        {
            return false;
        }

        destination[EpochLength] = '.';
        if (!Sequence.TryFormat(destination[(EpochLength + 1)..], out var digits, default, CultureInfo.InvariantCulture))
        {
            return false;
        }

        charsWritten = EpochLength + 1 + digits;
        return true;
    }

    /// <summary>Writes the text form as UTF-8 (ASCII); at most <see cref="MaxLength"/> bytes.</summary>
    public bool TryFormat(Span<byte> utf8Destination, out int bytesWritten)
    {
        bytesWritten = 0;
        if (utf8Destination.Length < EpochLength + 2
            || !Epoch.TryFormat(utf8Destination, out _, "x8", CultureInfo.InvariantCulture))
        {
            return false;
        }

        utf8Destination[EpochLength] = (byte)'.';
        if (!Sequence.TryFormat(utf8Destination[(EpochLength + 1)..], out var digits, default, CultureInfo.InvariantCulture))
        {
            return false;
        }

        bytesWritten = EpochLength + 1 + digits;
        return true;
    }

    /// <summary>The text form, e.g. <c>7f3a09c1.42</c>.</summary>
    public override string ToString()
    {
        Span<char> buffer = stackalloc char[MaxLength];
        TryFormat(buffer, out var written);
        return new string(buffer[..written]);
    }

    /// <inheritdoc/>
    public bool Equals(Cursor other) => Epoch == other.Epoch && Sequence == other.Sequence;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Cursor other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Epoch, Sequence);

    /// <summary>Whether two cursors are the same position.</summary>
    public static bool operator ==(Cursor left, Cursor right) => left.Equals(right);

    /// <summary>Whether two cursors are different positions.</summary>
    public static bool operator !=(Cursor left, Cursor right) => !left.Equals(right);
}
