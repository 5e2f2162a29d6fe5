using System;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.AspNetCore.Tests;

/// <summary>
/// Reads an event stream's raw text as it arrives. Every read waits for what it expects with a deadline (never a fixed
/// sleep): it returns as soon as the text is there, and fails the test when the deadline passes first.
/// </summary>
internal sealed partial class SseReader : IDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private readonly Stream _stream;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly StringBuilder _pending = new();
    private readonly Decoder _decoder = Encoding.UTF8.GetDecoder();

    public SseReader(Stream stream)
    {
        _stream = stream;
    }

    /// <summary>Whether the server ended the stream.</summary>
    public bool Ended { get; private set; }

    /// <summary>Reads until the text holds <paramref name="terminator"/>; returns everything up to and including it.</summary>
    public async Task<string> ReadUntilAsync(string terminator, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? DefaultTimeout);
        while (true)
        {
            var at = _pending.ToString().IndexOf(terminator, StringComparison.Ordinal);
            if (at >= 0)
            {
                var text = _pending.ToString(0, at + terminator.Length);
                _pending.Remove(0, at + terminator.Length);
                return text;
            }

            if (!await FillAsync(deadline.Token))
            {
                throw new EndOfStreamException($"The stream ended before \"{Escape(terminator)}\"; it had \"{Escape(_pending.ToString())}\".");
            }
        }
    }

    /// <summary>Reads exactly <paramref name="length"/> characters (ASCII prelude and frames).</summary>
    public async Task<string> ReadTextAsync(int length, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? DefaultTimeout);
        while (_pending.Length < length)
        {
            if (!await FillAsync(deadline.Token))
            {
                throw new EndOfStreamException($"The stream ended after \"{Escape(_pending.ToString())}\".");
            }
        }

        var text = _pending.ToString(0, length);
        _pending.Remove(0, length);
        return text;
    }

    /// <summary>Reads the next event: everything up to and including the blank line that ends it.</summary>
    public Task<string> ReadEventAsync(TimeSpan? timeout = null) => ReadUntilAsync("\n\n", timeout);

    /// <summary>Reads everything until the server ends the stream.</summary>
    public async Task<string> ReadToEndAsync(TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? DefaultTimeout);
        while (await FillAsync(deadline.Token))
        {
        }

        var text = _pending.ToString();
        _pending.Clear();
        return text;
    }

    /// <summary>
    /// Reads everything until the stream ends, cleanly or by a connection reset; returns the text and whether it was a reset.
    /// </summary>
    public async Task<(string Text, bool Reset)> ReadToEndOrResetAsync(TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? DefaultTimeout);
        var reset = false;
        try
        {
            while (await FillAsync(deadline.Token))
            {
            }
        }
        catch (IOException)
        {
            reset = true;
        }

        var text = _pending.ToString();
        _pending.Clear();
        return (text, reset);
    }

    /// <summary>The <c>id:</c> of an event's text.</summary>
    public static string IdOf(string frame) => IdPattern().Match(frame) is { Success: true } match
        ? match.Groups[1].Value
        : throw new FormatException($"No id in \"{Escape(frame)}\".");

    /// <summary>The sequence number of a cursor, <c>&lt;8 hex epoch&gt;.&lt;sequence&gt;</c>.</summary>
    public static long SequenceOf(string cursor) => long.Parse(cursor.AsSpan(cursor.IndexOf('.', StringComparison.Ordinal) + 1), CultureInfo.InvariantCulture);

    public static string Escape(string text) => text.Replace("\n", "\\n", StringComparison.Ordinal);

    public void Dispose() => _stream.Dispose();

    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        int read;
        try
        {
            read = await _stream.ReadAsync(_buffer, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Nothing expected arrived in time; the stream had \"{Escape(_pending.ToString())}\".");
        }

        if (read == 0)
        {
            Ended = true;
            return false;
        }

        var chars = new char[_decoder.GetCharCount(_buffer, 0, read)];
        _decoder.GetChars(_buffer, 0, read, chars, 0);
        _pending.Append(chars);
        return true;
    }

    [GeneratedRegex("^id: (.*)$", RegexOptions.Multiline)]
    private static partial Regex IdPattern();
}
