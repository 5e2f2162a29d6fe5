using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using Rocket.JsonPatch;

namespace Rocket.Fuzz.Tests;

/// <summary>Generators shared by the properties: JSON values, JSON Pointers, JSON Patches and byte-level mutations.</summary>
internal static class Gens
{
    /// <summary>Member names and array tokens chosen to collide: indexes, <c>-</c>, leading zeros, escapes, the empty name.</summary>
    public static readonly string[] Keys = ["a", "b", "id", "0", "1", "2", "-", "01", "~", "/", "~0", "~1", "", "é", "x y", "\U0001F680", "\u0000", "10"];

    // Deep enough for Deep's values and what the model's copies build from them; relaxed writes non-ASCII as it is, the default escapes it.
    private static readonly JsonSerializerOptions Escaped = new() { MaxDepth = 1024 };
    private static readonly JsonSerializerOptions Relaxed = new() { MaxDepth = 1024, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Numbers as text: integers, fractions, exponents, values past long and double.</summary>
    private static readonly string[] Numbers = ["0", "1", "-1", "2", "10", "1.5", "-2.25", "1e1", "1E+2", "9223372036854775807", "9223372036854775808", "-9223372036854775809", "1e400", "123456789012345678901234567890"];

    private static readonly string[] Strings = ["", "a", "b", "x y", "é", "\U0001F680", "\"quoted\"", "back\\slash", "line\nbreak", "\u0001", "</script>", "~1/~0"];

    /// <summary>Bytes and byte strings that break JSON and UTF-8 in interesting ways.</summary>
    private static readonly byte[][] Tokens =
    [
        "\""u8.ToArray(), "\\"u8.ToArray(), "{"u8.ToArray(), "}"u8.ToArray(), "["u8.ToArray(), "]"u8.ToArray(), ","u8.ToArray(), ":"u8.ToArray(),
        "\\u"u8.ToArray(), "\\ud800"u8.ToArray(), "\\udc00"u8.ToArray(), "\\u0000"u8.ToArray(), "~"u8.ToArray(), "~2"u8.ToArray(), "/"u8.ToArray(),
        "-"u8.ToArray(), "0"u8.ToArray(), "01"u8.ToArray(), "1e999"u8.ToArray(), "null"u8.ToArray(), "true"u8.ToArray(), "/*x*/"u8.ToArray(),
        "\"op\""u8.ToArray(), "\"path\""u8.ToArray(), "\"from\""u8.ToArray(), "\"value\""u8.ToArray(), "\"add\""u8.ToArray(), "\"copy\""u8.ToArray(),
        [0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0xEF, 0xBB, 0xBF], [0x00], [0x7F], [(byte)'\n'],
    ];

    /// <summary>A member name: mostly from <see cref="Keys"/>, sometimes a short random one.</summary>
    public static readonly Gen<string> Key = Gen.Frequency(
        (5, Gen.OneOf(Keys)),
        (1, Gen.Char["abc~/0-é"].Array[0, 3].Select(static chars => new string(chars))));

    public static readonly Gen<JsonNode?> Scalar = Gen.Frequency(
        (1, Gen.Const(static () => (JsonNode?)null)),
        (1, Gen.Bool.Select(static b => (JsonNode?)JsonValue.Create(b))),
        (2, Gen.OneOf(Numbers).Select(static n => JsonNode.Parse(n))),
        (2, Gen.OneOf(Strings).Select(static s => (JsonNode?)JsonValue.Create(s))));

    /// <summary>Any JSON value nesting at most <paramref name="depth"/> levels, with unique member names.</summary>
    public static Gen<JsonNode?> Json(int depth) => depth == 0
        ? Scalar
        : Gen.Frequency((3, Scalar), (1, Array(depth)), (1, Object(depth)));

    /// <summary>A JSON object nesting at most <paramref name="depth"/> levels.</summary>
    public static Gen<JsonNode?> Object(int depth)
    {
        var child = Json(depth - 1);
        return Gen.Select(Key, child).List[0, 4].Select(static members =>
        {
            var obj = new JsonObject();
            foreach (var (name, value) in members)
            {
                obj[name] = value;
            }

            return (JsonNode?)obj;
        });
    }

    private static Gen<JsonNode?> Array(int depth) =>
        Json(depth - 1).List[0, 4].Select(static items => (JsonNode?)new JsonArray([.. items]));

    /// <summary>A value nested <c>n</c> levels deep in arrays or single-member objects, for the depth budgets.</summary>
    public static readonly Gen<JsonNode?> Deep = Gen.Select(Gen.Int[1, 70], Gen.Bool, static (levels, arrays) =>
    {
        var text = arrays
            ? new string('[', levels) + new string(']', levels)
            : string.Concat(Enumerable.Repeat("{\"a\":", levels)) + "1" + new string('}', levels);
        return JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = 128 });
    });

    /// <summary>A value for a patch: small and shallow mostly, sometimes deep.</summary>
    public static readonly Gen<JsonNode?> Value = Gen.Frequency((8, Json(3)), (1, Deep));

    /// <summary>A pointer from random tokens, valid or not (<c>~2</c>, no leading <c>/</c>).</summary>
    public static readonly Gen<string> Pointer = Gen.Frequency(
        (8, Key.Array[0, 4].Select(static tokens => string.Concat(tokens.Select(static t => "/" + JsonPointer.Escape(t))))),
        (1, Gen.OneOf("a", "/~2", "~", "/~", "/a~", "#/a", " /a", "/a/")));

    public static readonly string[] OpNames = ["add", "remove", "replace", "move", "copy", "test"];

    /// <summary>Compact JSON text of a value, escaped either as the default encoder does or not at all.</summary>
    public static string Text(JsonNode? node, bool relaxed) => node is null ? "null" : node.ToJsonString(relaxed ? Relaxed : Escaped);

    /// <summary>
    /// A JSON Patch as text, with pointers from <paramref name="pointer"/>: every op, mostly with the members it needs,
    /// sometimes without, with extra members, or with members out of order; only the first two when
    /// <paramref name="wellFormed"/>.
    /// </summary>
    public static Gen<string> Patch(Gen<string> pointer, int maxOperations = 5, bool wellFormed = false) =>
        Operation(pointer, wellFormed).List[0, maxOperations].Select(Gen.Bool, Gen.Bool, static (ops, relaxed, spaced) =>
        {
            var text = new StringBuilder("[");
            for (var i = 0; i < ops.Count; i++)
            {
                if (i > 0)
                {
                    text.Append(spaced ? ", " : ",");
                }

                ops[i].Write(text, relaxed, spaced);
            }

            return text.Append(']').ToString();
        });

    private static Gen<PatchOp> Operation(Gen<string> pointer, bool wellFormed) =>
        Gen.Select(
            wellFormed ? Gen.OneOf(OpNames) : Gen.Frequency((12, Gen.OneOf(OpNames)), (1, Gen.OneOf("update", "Add", "", "ad\\u0064"))),
            pointer,
            pointer,
            Value,
            wellFormed ? Gen.Int[0, 11] : Gen.Int[0, 15],
            static (op, path, from, value, shape) => new PatchOp(op, path, from, value, shape));

    /// <summary>One operation and how it is written: <paramref name="Shape"/> 0 to 11 is the ordinary form, the rest vary it.</summary>
    private sealed record PatchOp(string Op, string Path, string From, JsonNode? Value, int Shape)
    {
        public void Write(StringBuilder text, bool relaxed, bool spaced)
        {
            var members = new List<string>();
            var colon = spaced ? ": " : ":";
            var needsFrom = Op is "move" or "copy";
            var needsValue = Op is "add" or "replace" or "test";
            members.Add($"\"op\"{colon}{(Op.Contains('\\', StringComparison.Ordinal) ? "\"" + Op + "\"" : JsonSerializer.Serialize(Op))}");
            if (Shape != 12)
            {
                members.Add($"\"path\"{colon}{JsonSerializer.Serialize(Path, relaxed ? Relaxed : Escaped)}");
            }

            if (needsFrom || Shape == 13)
            {
                members.Add($"\"from\"{colon}{JsonSerializer.Serialize(From, relaxed ? Relaxed : Escaped)}");
            }

            if ((needsValue && Shape != 14) || Shape == 15)
            {
                members.Add($"\"value\"{colon}{Text(Value, relaxed)}");
            }

            if (Shape == 11)
            {
                members.Add($"\"comment\"{colon}{{\"x\":[1,2]}}");
                members.Reverse();
            }

            text.Append('{').AppendJoin(spaced ? ", " : ",", members).Append('}');
        }
    }

    /// <summary>Up to <paramref name="max"/> byte-level mutations of what <paramref name="source"/> makes.</summary>
    public static Gen<byte[]> Mutated(Gen<byte[]> source, int max = 4) =>
        Gen.Select(source, Gen.Select(Gen.Int[0, 5], Gen.Int[0, int.MaxValue], Gen.Int[0, int.MaxValue]).Array[1, max], static (bytes, edits) =>
        {
            var data = new List<byte>(bytes);
            foreach (var (kind, a, b) in edits)
            {
                var at = a % (data.Count + 1);
                switch (kind)
                {
                    case 0 when data.Count > 0:
                        data[at % data.Count] = (byte)b;
                        break;
                    case 1:
                        data.InsertRange(at, Tokens[b % Tokens.Length]);
                        break;
                    case 2 when data.Count > 0:
                        data.RemoveRange(at % data.Count, Math.Min(1 + (b % 4), data.Count - (at % data.Count)));
                        break;
                    case 3 when data.Count > 0:
                        var start = at % data.Count;
                        var length = Math.Min(1 + (b % 16), data.Count - start);
                        data.InsertRange((b / 16) % (data.Count + 1), data.GetRange(start, length));
                        break;
                    case 4:
                        data.RemoveRange(at, data.Count - at);
                        break;
                    default:
                        data.Insert(at, (byte)(b % 128));
                        break;
                }
            }

            return data.ToArray();
        });

    /// <summary>Bytes shown as C# string text, so a failing input can be pasted into a test.</summary>
    public static string Show(byte[] bytes)
    {
        var text = new StringBuilder("\"");
        foreach (var b in bytes)
        {
            text.Append(b is >= 0x20 and < 0x7F and not (byte)'"' and not (byte)'\\' ? ((char)b).ToString() : $"\\x{b:X2}");
        }

        return text.Append("\" (").Append(bytes.Length).Append(" bytes)").ToString();
    }

    /// <summary>How deeply a value nests: 0 for a scalar, <c>{"a":[1]}</c> is 2.</summary>
    public static int Depth(JsonNode? node) => node switch
    {
        JsonObject obj => 1 + obj.Select(static m => Depth(m.Value)).DefaultIfEmpty(0).Max(),
        JsonArray array => 1 + array.Select(Depth).DefaultIfEmpty(0).Max(),
        _ => 0,
    };

    /// <summary>Every pointer that exists in <paramref name="node"/>, the root included.</summary>
    public static List<string> Pointers(JsonNode? node)
    {
        var pointers = new List<string>();
        Collect(node, string.Empty, pointers);
        return pointers;

        static void Collect(JsonNode? node, string at, List<string> pointers)
        {
            pointers.Add(at);
            switch (node)
            {
                case JsonObject obj:
                    foreach (var (name, value) in obj)
                    {
                        Collect(value, at + "/" + JsonPointer.Escape(name), pointers);
                    }

                    break;
                case JsonArray array:
                    for (var i = 0; i < array.Count; i++)
                    {
                        Collect(array[i], at + "/" + i, pointers);
                    }

                    break;
            }
        }
    }

    /// <summary>
    /// Pointers into <paramref name="document"/>: half the time one that exists, a quarter one whose parent exists (a
    /// new member, <c>-</c>, one past the end), a quarter any pointer.
    /// </summary>
    public static Gen<string> PointerInto(JsonNode? document)
    {
        var existing = Pointers(document);
        var parents = new List<string>();
        foreach (var pointer in existing)
        {
            parents.Add(pointer + "/-");
            parents.Add(pointer + "/new");
            parents.Add(pointer + "/0");
        }

        foreach (var pointer in existing)
        {
            if (pointer.Length > 0 && char.IsAsciiDigit(pointer[^1]))
            {
                var slash = pointer.LastIndexOf('/');
                if (int.TryParse(pointer.AsSpan(slash + 1), out var index))
                {
                    parents.Add(string.Concat(pointer.AsSpan(0, slash + 1), (index + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)));
                }
            }
        }

        return Gen.Frequency((2, Gen.OneOf([.. existing])), (1, Gen.OneOf([.. parents])), (1, Pointer));
    }
}
