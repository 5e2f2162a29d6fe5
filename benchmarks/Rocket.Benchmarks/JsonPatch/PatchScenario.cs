using System;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using RocketPatch = Rocket.JsonPatch.JsonPatchDocument;

namespace Rocket.Benchmarks.JsonPatch;

/// <summary>
/// The one 8-operation patch every JSON Patch benchmark writes, parses or applies, and the keyed collection document
/// it is applied to (docs/design.md, decision 2: <c>/messages/{id}</c>).
/// </summary>
/// <remarks>
/// The patch uses all six operations and maps <see cref="PatchedDocument"/> to itself: a record is edited in place
/// (test, replace x2), another record's array element is replaced, a new record is added, gets a copy of an array,
/// is re-keyed (move) and is destroyed (remove). So after one first application the same <see cref="JsonNode"/> can
/// be patched every iteration, doing exactly the same work, without growing.
/// </remarks>
internal static class PatchScenario
{
    public const int OperationCount = 8;

    public const string OriginalDocument =
        """{"messages":{"123":{"id":123,"author":"ann","text":"hello","likes":3,"tags":["news","draft"],"edited":false},"124":{"id":124,"author":"bob","text":"hi ann","likes":0,"tags":["reply"],"edited":false}},"meta":{"count":2,"cursor":"7f3a.41"}}""";

    /// <summary>The document after the patch, and after any number of further applications of it.</summary>
    public const string PatchedDocument =
        """{"messages":{"123":{"id":123,"author":"ann","text":"hello, edited","likes":3,"tags":["news","draft"],"edited":true},"124":{"id":124,"author":"bob","text":"hi ann","likes":0,"tags":["answer"],"edited":false}},"meta":{"count":2,"cursor":"7f3a.41"}}""";

    public const string TestPath = "/messages/123/author";
    public const string TestValue = "ann";
    public const string TextPath = "/messages/123/text";
    public const string TextValue = "hello, edited";
    public const string EditedPath = "/messages/123/edited";
    public const string TagPath = "/messages/124/tags/0";
    public const string TagValue = "answer";
    public const string AddPath = "/messages/125";
    public const string CopyFrom = "/messages/123/tags";
    public const string CopyPath = "/messages/125/tags";
    public const string MoveFrom = "/messages/125";
    public const string MovePath = "/messages/126";
    public const string RemovePath = "/messages/126";

    /// <summary>The record the <c>add</c> creates, as the application holds it.</summary>
    public static MessageRecord NewMessage { get; } = new() { Id = 125, Author = "cat", Text = "new here", Likes = 0, Tags = [], Edited = false };

    /// <summary>The patch on the wire: compact, member order op, path, from, value (what every writer here produces).</summary>
    public static byte[] PatchUtf8 { get; } =
        """[{"op":"test","path":"/messages/123/author","value":"ann"},{"op":"replace","path":"/messages/123/text","value":"hello, edited"},{"op":"replace","path":"/messages/123/edited","value":true},{"op":"replace","path":"/messages/124/tags/0","value":"answer"},{"op":"add","path":"/messages/125","value":{"id":125,"author":"cat","text":"new here","likes":0,"tags":[],"edited":false}},{"op":"copy","path":"/messages/125/tags","from":"/messages/123/tags"},{"op":"move","path":"/messages/126","from":"/messages/125"},{"op":"remove","path":"/messages/126"}]"""u8.ToArray();

    private static readonly JsonEncodedText IdName = JsonEncodedText.Encode("id");
    private static readonly JsonEncodedText AuthorName = JsonEncodedText.Encode("author");
    private static readonly JsonEncodedText TextName = JsonEncodedText.Encode("text");
    private static readonly JsonEncodedText LikesName = JsonEncodedText.Encode("likes");
    private static readonly JsonEncodedText TagsName = JsonEncodedText.Encode("tags");
    private static readonly JsonEncodedText EditedName = JsonEncodedText.Encode("edited");

    /// <summary>Writes a record the way an application's hand-written serializer would (pre-encoded names, no reflection).</summary>
    public static void WriteMessage(Utf8JsonWriter writer, MessageRecord message)
    {
        writer.WriteStartObject();
        writer.WriteNumber(IdName, message.Id);
        writer.WriteString(AuthorName, message.Author);
        writer.WriteString(TextName, message.Text);
        writer.WriteNumber(LikesName, message.Likes);
        writer.WriteStartArray(TagsName);
        foreach (var tag in message.Tags)
        {
            writer.WriteStringValue(tag);
        }

        writer.WriteEndArray();
        writer.WriteBoolean(EditedName, message.Edited);
        writer.WriteEndObject();
    }

    /// <summary>Throws unless <paramref name="utf8Patch"/> parses to exactly the operations of <see cref="PatchUtf8"/>.</summary>
    public static void ThrowUnlessSamePatch(ReadOnlySpan<byte> utf8Patch, string producer)
    {
        var expected = RocketPatch.Parse(PatchUtf8);
        var actual = RocketPatch.Parse(utf8Patch);
        if (actual.Count != expected.Count)
        {
            throw new InvalidOperationException($"{producer} wrote {actual.Count} operations, expected {expected.Count}: {actual}");
        }

        for (var i = 0; i < expected.Count; i++)
        {
            if (!actual[i].Equals(expected[i]))
            {
                throw new InvalidOperationException($"{producer} wrote operation {i} as {actual[i]}, expected {expected[i]}.");
            }
        }
    }

    /// <summary>Throws unless <paramref name="document"/> equals <see cref="PatchedDocument"/> as JSON.</summary>
    public static void ThrowUnlessPatched(JsonNode? document, string producer)
    {
        var expected = JsonNode.Parse(PatchedDocument);
        if (!JsonNode.DeepEquals(document, expected))
        {
            throw new InvalidOperationException($"{producer} produced {document?.ToJsonString() ?? "null"}, expected {PatchedDocument}.");
        }
    }
}

/// <summary>A message record as the application holds it.</summary>
public sealed class MessageRecord
{
    [JsonPropertyName("id")]
    public int Id { get; init; }

    [JsonPropertyName("author")]
    public string Author { get; init; } = string.Empty;

    [JsonPropertyName("text")]
    public string Text { get; init; } = string.Empty;

    [JsonPropertyName("likes")]
    public int Likes { get; init; }

    [JsonPropertyName("tags")]
    public string[] Tags { get; init; } = [];

    [JsonPropertyName("edited")]
    public bool Edited { get; init; }
}
