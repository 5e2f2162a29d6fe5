using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Rocket.JsonPatch;

internal static class JsonElementChecks
{
    // Objects up to this size are checked pairwise, which allocates nothing; larger ones use a set.
    private const int PairwiseLimit = 8;

    /// <summary>Finds a member name that occurs twice in one object anywhere inside <paramref name="element"/>.</summary>
    public static string? FindDuplicateProperty(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var count = element.GetPropertyCount();
                if (count > PairwiseLimit)
                {
                    var seen = new HashSet<string>(count, StringComparer.Ordinal);
                    foreach (var member in element.EnumerateObject())
                    {
                        if (!seen.Add(member.Name))
                        {
                            return member.Name;
                        }
                    }
                }
                else if (count > 1 && FindDuplicatePairwise(element) is { } pairwise)
                {
                    return pairwise;
                }

                foreach (var member in element.EnumerateObject())
                {
                    if (FindDuplicateProperty(member.Value) is { } nested)
                    {
                        return nested;
                    }
                }

                return null;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (FindDuplicateProperty(item) is { } nested)
                    {
                        return nested;
                    }
                }

                return null;
            default:
                return null;
        }
    }

    private static string? FindDuplicatePairwise(JsonElement element)
    {
        var position = 0;
        foreach (var member in element.EnumerateObject())
        {
            var raw = JsonMarshal.GetRawUtf8PropertyName(member);
            var escaped = raw.IndexOf((byte)'\\') >= 0;
            var other = 0;
            foreach (var later in element.EnumerateObject())
            {
                if (other++ <= position)
                {
                    continue;
                }

                if (escaped ? later.NameEquals(member.Name) : later.NameEquals(raw))
                {
                    return member.Name;
                }
            }

            position++;
        }

        return null;
    }
}
