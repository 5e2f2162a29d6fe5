using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rocket.JsonPatch;

namespace Rocket.Core.Tests.JsonPatch;

/// <summary>
/// A small seeded generator of JSON values, pointers and patches for property tests. The same seed always gives the
/// same values, so a failure names its seed and reproduces.
/// </summary>
internal sealed class RandomJson
{
    // Keys and strings lean on what is easy to get wrong: escapes of both RFC 6901 and RFC 8259, empty keys, keys that
    // look like array indexes or '-', non-ASCII text and a surrogate pair.
    private static readonly string[] Keys = ["a", "b", "id", "", "-", "0", "01", "10", "~", "/", "~1", "a/b", "m~n", "é", "\"", "\\", "\n", "<x>", "\U0001F680", " "];

    private static readonly string[] Texts = ["", "x", "hello world", "~0~1", "\"quoted\"", "back\\slash", "tab\there", "\u0001\u001f", "é ü ß", "\u2028", "\U0001F680", "null", "1"];

    private readonly Random _random;

    public RandomJson(int seed) => _random = new Random(seed);

    public int Next(int maxExclusive) => _random.Next(maxExclusive);

    public bool Chance(double probability) => _random.NextDouble() < probability;

    public T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    public string Key() => Pick(Keys);

    public JsonNode? Value(int depth = 3)
    {
        var kind = _random.Next(depth > 0 ? 9 : 6);
        switch (kind)
        {
            case 0:
                return null;
            case 1:
                return JsonValue.Create(_random.Next(2) == 0);
            case 2:
                return JsonValue.Create(_random.Next(-1000, 1000));
            case 3:
                // Parsed, so the text form (1.5, -2e-3...) is what a client would send.
                return JsonNode.Parse(Pick(new[] { "0", "-0", "1.5", "-2e-3", "1E+2", "123456789012345", "0.1" }));
            case 4:
            case 5:
                return JsonValue.Create(Pick(Texts));
            case 6:
            case 7:
                var obj = new JsonObject();
                var members = _random.Next(5);
                for (var i = 0; i < members; i++)
                {
                    obj[Key()] = Value(depth - 1);
                }

                return obj;
            default:
                var array = new JsonArray();
                var items = _random.Next(5);
                for (var i = 0; i < items; i++)
                {
                    array.Add(Value(depth - 1));
                }

                return array;
        }
    }

    /// <summary>A container (object or array) at the root, which is what patches mostly edit.</summary>
    public JsonNode Document()
    {
        while (true)
        {
            var value = Value(4);
            if (value is JsonObject or JsonArray)
            {
                return value;
            }
        }
    }

    public JsonElement Element(int depth = 2) => ToElement(Value(depth));

    public static JsonElement ToElement(JsonNode? node) => JsonElement.Parse(node?.ToJsonString() ?? "null");

    public JsonPointer Pointer()
    {
        var count = _random.Next(4);
        var segments = new string[count];
        for (var i = 0; i < count; i++)
        {
            segments[i] = Key();
        }

        return JsonPointer.Create(segments);
    }

    /// <summary>Any well-formed operation, not necessarily one that applies to a given document.</summary>
    public JsonPatchOperation Operation() => _random.Next(6) switch
    {
        0 => JsonPatchOperation.Add(Pointer(), Element()),
        1 => JsonPatchOperation.Remove(Pointer()),
        2 => JsonPatchOperation.Replace(Pointer(), Element()),
        3 => JsonPatchOperation.Move(Pointer(), Pointer()),
        4 => JsonPatchOperation.Copy(Pointer(), Pointer()),
        _ => JsonPatchOperation.Test(Pointer(), Element()),
    };

    /// <summary>Every location in the document, the root first.</summary>
    public static List<JsonPointer> Locations(JsonNode? root)
    {
        var result = new List<JsonPointer>();
        Visit(root, JsonPointer.Root);
        return result;

        void Visit(JsonNode? node, JsonPointer at)
        {
            result.Add(at);
            switch (node)
            {
                case JsonObject obj:
                    foreach (var (key, child) in obj)
                    {
                        Visit(child, at.Append(key));
                    }

                    break;
                case JsonArray array:
                    for (var i = 0; i < array.Count; i++)
                    {
                        Visit(array[i], at.Append(i.ToString(CultureInfo.InvariantCulture)));
                    }

                    break;
            }
        }
    }

    public static JsonNode? At(JsonNode? root, JsonPointer pointer)
    {
        var node = root;
        foreach (var segment in pointer.Segments)
        {
            node = node is JsonArray array ? array[int.Parse(segment, CultureInfo.InvariantCulture)] : node![segment];
        }

        return node;
    }

    /// <summary>
    /// An operation that applies to <paramref name="document"/> as it is now (the caller applies it before asking for
    /// the next one), or <see langword="null"/> when the attempt drew one that does not.
    /// </summary>
    public JsonPatchOperation? ApplicableOperation(JsonNode? document)
    {
        var locations = Locations(document);
        var containers = locations.FindAll(p => At(document, p) is JsonObject or JsonArray);
        var existing = Pick(locations);
        switch (_random.Next(6))
        {
            case 0:
                return JsonPatchOperation.Add(Insertion(document, containers), Element());
            case 1:
                return existing.IsRoot ? null : JsonPatchOperation.Remove(existing);
            case 2:
                return JsonPatchOperation.Replace(Chance(0.05) ? JsonPointer.Root : existing, Element());
            case 3:
                var target = Insertion(document, containers);
                return existing.IsRoot || existing.IsProperPrefixOf(target) ? null : JsonPatchOperation.Move(existing, target);
            case 4:
                return JsonPatchOperation.Copy(existing, Insertion(document, containers));
            default:
                return JsonPatchOperation.Test(existing, ToElement(At(document, existing)));
        }
    }

    private JsonPointer Insertion(JsonNode? document, List<JsonPointer> containers)
    {
        if (containers.Count == 0)
        {
            return JsonPointer.Root;
        }

        var parent = Pick(containers);
        return At(document, parent) switch
        {
            JsonArray array => parent.Append(Chance(0.3) ? "-" : _random.Next(array.Count + 1).ToString(CultureInfo.InvariantCulture)),
            _ => parent.Append(Key()),
        };
    }
}
