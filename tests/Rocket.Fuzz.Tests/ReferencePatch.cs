using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;
using Rocket.JsonPatch;

namespace Rocket.Fuzz.Tests;

/// <summary>
/// RFC 6902 written as plainly as possible, on copies, with no budgets and no undo log: what Rocket's applier is
/// compared against. Returns false when any operation cannot apply.
/// </summary>
internal static class ReferencePatch
{
    /// <summary>Applies <paramref name="patch"/> to a copy of <paramref name="document"/>.</summary>
    /// <param name="document">The document; not changed.</param>
    /// <param name="patch">The operations.</param>
    /// <param name="result">The patched document when it applies.</param>
    /// <param name="deepest">The deepest nesting of the document before, between and after the operations.</param>
    /// <param name="copied">The compact UTF-8 size of every value the copies duplicated, added up.</param>
    public static bool TryApply(JsonNode? document, JsonPatchDocument patch, out JsonNode? result, out int deepest, out long copied)
    {
        var root = document?.DeepClone();
        deepest = Gens.Depth(root);
        copied = 0;
        result = null;
        foreach (var operation in patch)
        {
            if (!TryApply(ref root, operation, ref copied))
            {
                return false;
            }

            deepest = Math.Max(deepest, Gens.Depth(root));
        }

        result = root;
        return true;
    }

    private static bool TryApply(ref JsonNode? root, JsonPatchOperation operation, ref long copied)
    {
        var path = operation.Path.Segments.ToArray();
        switch (operation.Op)
        {
            case JsonPatchOperationType.Add:
                return Add(ref root, path, JsonNode.Parse(operation.Value.GetRawText()));
            case JsonPatchOperationType.Remove:
                return path.Length > 0 && Remove(root, path, out _);
            case JsonPatchOperationType.Replace:
                if (!TryGet(root, path, out _))
                {
                    return false;
                }

                var value = JsonNode.Parse(operation.Value.GetRawText());
                if (path.Length == 0)
                {
                    root = value;
                    return true;
                }

                // In place: a replaced member keeps its position.
                TryGet(root, path[..^1], out var parent);
                if (parent is JsonObject obj)
                {
                    obj[path[^1]] = value;
                }
                else
                {
                    TryIndex(path[^1], out var index);
                    ((JsonArray)parent!)[index] = value;
                }

                return true;
            case JsonPatchOperationType.Move:
                var from = operation.From.Segments.ToArray();
                if (!TryGet(root, from, out _))
                {
                    return false;
                }

                if (from.SequenceEqual(path))
                {
                    return true;
                }

                if (from.Length < path.Length && path.Take(from.Length).SequenceEqual(from))
                {
                    return false;
                }

                if (from.Length == 0)
                {
                    // Only reachable with a path that is not below the root, which cannot be.
                    return false;
                }

                return Remove(root, from, out var moved) && Add(ref root, path, moved);
            case JsonPatchOperationType.Copy:
                if (!TryGet(root, operation.From.Segments.ToArray(), out var source))
                {
                    return false;
                }

                copied += Gens.Text(source, relaxed: true).Length;
                return Add(ref root, path, source?.DeepClone());
            case JsonPatchOperationType.Test:
                return TryGet(root, path, out var actual) && JsonNode.DeepEquals(actual, JsonNode.Parse(operation.Value.GetRawText()));
            default:
                throw new ArgumentOutOfRangeException(nameof(operation));
        }
    }

    private static bool TryGet(JsonNode? root, IReadOnlyList<string> path, out JsonNode? value)
    {
        value = root;
        foreach (var token in path)
        {
            switch (value)
            {
                case JsonObject obj when obj.TryGetPropertyValue(token, out var member):
                    value = member;
                    break;
                case JsonArray array when TryIndex(token, out var index) && index < array.Count:
                    value = array[index];
                    break;
                default:
                    value = null;
                    return false;
            }
        }

        return true;
    }

    private static bool Add(ref JsonNode? root, string[] path, JsonNode? value)
    {
        if (path.Length == 0)
        {
            root = value;
            return true;
        }

        if (!TryGet(root, path[..^1], out var parent))
        {
            return false;
        }

        var last = path[^1];
        switch (parent)
        {
            case JsonObject obj:
                obj[last] = value;
                return true;
            case JsonArray array when last == "-":
                array.Add(value);
                return true;
            case JsonArray array when TryIndex(last, out var index) && index <= array.Count:
                array.Insert(index, value);
                return true;
            default:
                return false;
        }
    }

    private static bool Remove(JsonNode? root, string[] path, out JsonNode? removed)
    {
        removed = null;
        if (!TryGet(root, path[..^1], out var parent))
        {
            return false;
        }

        var last = path[^1];
        switch (parent)
        {
            case JsonObject obj when obj.TryGetPropertyValue(last, out removed):
                obj.Remove(last);
                return true;
            case JsonArray array when TryIndex(last, out var index) && index < array.Count:
                removed = array[index];
                array.RemoveAt(index);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Equal as JSON, and with members in the same order (Rocket keeps a replaced member's place).</summary>
    public static bool SameInOrder(JsonNode? left, JsonNode? right) => (left, right) switch
    {
        (JsonObject a, JsonObject b) => a.Count == b.Count && a.Zip(b).All(static p => p.First.Key == p.Second.Key && SameInOrder(p.First.Value, p.Second.Value)),
        (JsonArray a, JsonArray b) => a.Count == b.Count && a.Zip(b).All(static p => SameInOrder(p.First, p.Second)),
        (JsonObject or JsonArray, _) or (_, JsonObject or JsonArray) => false,
        _ => ScalarEquals(left, right),
    };

    /// <summary>Equal as JSON: members in any order.</summary>
    public static bool SameAsJson(JsonNode? left, JsonNode? right) => (left, right) switch
    {
        (JsonObject a, JsonObject b) => a.Count == b.Count && a.All(m => b.TryGetPropertyValue(m.Key, out var other) && SameAsJson(m.Value, other)),
        (JsonArray a, JsonArray b) => a.Count == b.Count && a.Zip(b).All(static p => SameAsJson(p.First, p.Second)),
        (JsonObject or JsonArray, _) or (_, JsonObject or JsonArray) => false,
        _ => ScalarEquals(left, right),
    };

    // JsonNode.DeepEquals throws for a number whose exponent is past int's range (valid JSON): such numbers are compared
    // by text, which is enough here (both sides hold the text they were given).
    private static bool ScalarEquals(JsonNode? left, JsonNode? right) =>
        left is JsonValue l && right is JsonValue r && l.GetValueKind() == System.Text.Json.JsonValueKind.Number && r.GetValueKind() == System.Text.Json.JsonValueKind.Number
            ? l.ToJsonString() == r.ToJsonString() || NumbersEqual(l, r)
            : JsonNode.DeepEquals(left, right);

    private static bool NumbersEqual(JsonValue left, JsonValue right)
    {
        try
        {
            return JsonNode.DeepEquals(left, right);
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    // RFC 6901 section 4: "0", or digits without a leading zero.
    private static bool TryIndex(string token, out int index)
    {
        index = 0;
        if (token.Length == 0 || token.Length > 9 || (token.Length > 1 && token[0] == '0') || !token.All(char.IsAsciiDigit))
        {
            return false;
        }

        index = int.Parse(token, System.Globalization.CultureInfo.InvariantCulture);
        return true;
    }
}
