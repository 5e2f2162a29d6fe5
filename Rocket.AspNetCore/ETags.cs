using System;
using System.Security.Cryptography;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Rocket.AspNetCore;

/// <summary>A record's entity tag, and the conditional headers that name it.</summary>
internal static class ETags
{
    /// <summary>A strong ETag from the record's bytes: 96 bits of SHA-256, base64url.</summary>
    public static string Of(ReadOnlySpan<byte> record)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(record, hash);
        return $"\"{Convert.ToBase64String(hash[..12]).Replace('+', '-').Replace('/', '_')}\"";
    }

    /// <summary>
    /// RFC 9110 section 13.1: <c>*</c> matches any current record; <c>If-Match</c> compares strongly (a weak tag never
    /// matches), <c>If-None-Match</c> weakly. Entries that are not entity tags match nothing.
    /// </summary>
    public static bool Matches(StringValues header, string etag, bool weak)
    {
        if (StringValues.IsNullOrEmpty(header) || !EntityTagHeaderValue.TryParseList(header, out var tags))
        {
            return false;
        }

        var current = new EntityTagHeaderValue(etag);
        foreach (var tag in tags)
        {
            if (tag.Equals(EntityTagHeaderValue.Any) || tag.Compare(current, useStrongComparison: !weak))
            {
                return true;
            }
        }

        return false;
    }
}
