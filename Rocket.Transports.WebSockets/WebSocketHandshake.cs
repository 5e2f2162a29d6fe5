using System;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Primitives;

namespace Rocket.Transports.WebSockets;

/// <summary>The server's half of the RFC 6455 opening handshake (section 4.2) that the endpoint does itself.</summary>
internal static class WebSocketHandshake
{
    /// <summary>The only version of the protocol (section 4.1): <c>Sec-WebSocket-Version: 13</c>.</summary>
    public const string Version = "13";

    // Section 1.3: the GUID every server appends to the client's key before hashing it.
    private static ReadOnlySpan<byte> KeyGuid => "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"u8;

    // A key is 16 random bytes in base64: 24 characters (section 4.1, item 7).
    private const int KeyLength = 24;

    /// <summary>Whether the request's <c>Sec-WebSocket-Version</c> values include 13.</summary>
    public static bool IsSupportedVersion(StringValues versions)
    {
        foreach (var value in versions)
        {
            foreach (var part in (value ?? string.Empty).Split(',', StringSplitOptions.TrimEntries))
            {
                if (part == Version)
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// The <c>Sec-WebSocket-Accept</c> answering <paramref name="key"/> (section 4.2.2, item 5.4): base64 of the SHA-1
    /// of the key and the GUID. False when the key is not base64 of 16 bytes (section 4.2.1, item 5).
    /// </summary>
    public static bool TryGetAcceptKey(StringValues key, [NotNullWhen(true)] out string? accept)
    {
        accept = null;
        if (key.Count != 1 || key[0] is not { Length: KeyLength } text)
        {
            return false;
        }

        Span<byte> nonce = stackalloc byte[18];
        if (!Convert.TryFromBase64String(text, nonce, out var nonceLength) || nonceLength != 16)
        {
            return false;
        }

        Span<byte> input = stackalloc byte[KeyLength + 36];
        Encoding.ASCII.GetBytes(text, input);
        KeyGuid.CopyTo(input[KeyLength..]);
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
#pragma warning disable CA5350 // RFC 6455 fixes SHA-1 here; it proves the server read the handshake, it protects nothing.
        SHA1.HashData(input, hash);
#pragma warning restore CA5350
        accept = Convert.ToBase64String(hash);
        return true;
    }
}
