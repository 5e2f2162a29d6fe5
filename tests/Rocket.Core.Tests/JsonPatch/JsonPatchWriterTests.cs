using System;
using System.Buffers;
using System.Text;
using System.Text.Json;
using Rocket.JsonPatch;

namespace Rocket.Core.Tests.JsonPatch;

/// <summary>The zero-allocation writer: byte-exact output, values in three forms, checks, escaping, round trips.</summary>
public sealed class JsonPatchWriterTests
{
    [Fact]
    public void Write_EachOperationKind_ByteExact()
    {
        var output = new ArrayBufferWriter<byte>();
        using (var writer = new JsonPatchWriter(output))
        {
            writer.WriteStartPatch();
            writer.WriteAdd("/a", "1"u8);
            writer.WriteRemove("/b/0");
            writer.WriteReplace("/c", "\"x\""u8);
            writer.WriteMove("/d", "/e");
            writer.WriteCopy("/f", "/g/-");
            writer.WriteTest("", "null"u8);
            writer.WriteEndPatch();
        }

        Assert.Equal(
            """[{"op":"add","path":"/a","value":1},{"op":"remove","path":"/b/0"},{"op":"replace","path":"/c","value":"x"},{"op":"move","path":"/e","from":"/d"},{"op":"copy","path":"/g/-","from":"/f"},{"op":"test","path":"","value":null}]""",
            Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void Write_ValueAsRawElementOrCallback_SameBytes()
    {
        const string Value = """{"id":7,"tags":["a","b"],"n":null,"f":1.5e3}""";
        using var parsed = JsonDocument.Parse(Value);

        var raw = Write(static w => w.WriteAdd("/m/7", Encoding.UTF8.GetBytes(Value)));
        var element = Write(w => w.WriteAdd("/m/7", parsed.RootElement));
        var callback = Write(static w => w.WriteAdd("/m/7", 7, static (json, id) =>
        {
            json.WriteStartObject();
            json.WriteNumber("id", id);
            json.WriteStartArray("tags");
            json.WriteStringValue("a");
            json.WriteStringValue("b");
            json.WriteEndArray();
            json.WriteNull("n");
            json.WritePropertyName("f");
            json.WriteRawValue("1.5e3");
            json.WriteEndObject();
        }));

        var expected = "[{\"op\":\"add\",\"path\":\"/m/7\",\"value\":" + Value + "}]";
        Assert.Equal(expected, raw);
        Assert.Equal(expected, element);
        Assert.Equal(expected, callback);
    }

    [Fact]
    public void WriteReplaceAndTest_ElementAndCallback_ByteExact()
    {
        using var parsed = JsonDocument.Parse("[true]");

        Assert.Equal("""[{"op":"replace","path":"/r","value":[true]}]""", Write(w => w.WriteReplace("/r", parsed.RootElement)));
        Assert.Equal("""[{"op":"test","path":"/t","value":[true]}]""", Write(w => w.WriteTest("/t", parsed.RootElement)));
        Assert.Equal("""[{"op":"replace","path":"/r","value":false}]""", Write(static w => w.WriteReplace("/r", false, static (j, s) => j.WriteBooleanValue(s))));
        Assert.Equal("""[{"op":"test","path":"/t","value":"s"}]""", Write(static w => w.WriteTest("/t", "s", static (j, s) => j.WriteStringValue(s))));
    }

    [Fact]
    public void Reset_ReusedForSecondPatch_WritesOnlyTheSecond()
    {
        var first = new ArrayBufferWriter<byte>();
        var second = new ArrayBufferWriter<byte>();
        using var writer = new JsonPatchWriter(first);
        writer.WriteStartPatch();
        writer.WriteRemove("/a");
        writer.WriteEndPatch();
        writer.Flush();

        writer.Reset(second);
        writer.WriteStartPatch();
        writer.WriteRemove("/b");
        writer.WriteEndPatch();
        writer.Flush();

        Assert.Equal("""[{"op":"remove","path":"/a"}]""", Encoding.UTF8.GetString(first.WrittenSpan));
        Assert.Equal("""[{"op":"remove","path":"/b"}]""", Encoding.UTF8.GetString(second.WrittenSpan));
        Assert.Equal(0, writer.BytesPending);
        Assert.Equal(second.WrittenCount, writer.BytesCommitted);
    }

    [Fact]
    public void Reset_SameOutputAfterAbandonedPatch_StartsClean()
    {
        var output = new ArrayBufferWriter<byte>();
        using var writer = new JsonPatchWriter(output);
        writer.WriteStartPatch();
        writer.WriteRemove("/never");

        writer.Reset();
        output.Clear();
        writer.WriteStartPatch();
        writer.WriteRemove("/b");
        writer.WriteEndPatch();
        writer.Flush();

        Assert.Equal("""[{"op":"remove","path":"/b"}]""", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("{")]
    [InlineData("[1,]")]
    [InlineData("1 2")]
    [InlineData("{}{}")]
    [InlineData("undefined")]
    [InlineData("'x'")]
    [InlineData("/*c*/1")]
    [InlineData("{\"a\":}")]
    public void WriteAdd_InvalidRawValue_RefusedBeforeWriting(string value)
    {
        AssertRefusedBeforeWriting(w => w.WriteAdd("/a", Encoding.UTF8.GetBytes(value)));
    }

    [Theory]
    [InlineData(new byte[] { (byte)'"', 0xFF, (byte)'"' })]
    [InlineData(new byte[] { (byte)'"', 0xC3, (byte)'"' })]
    [InlineData(new byte[] { (byte)'"', 0xED, 0xA0, 0x80, (byte)'"' })] // a surrogate encoded as UTF-8
    public void WriteAdd_RawValueNotUtf8_RefusedBeforeWriting(byte[] value)
    {
        AssertRefusedBeforeWriting(w => w.WriteAdd("/a", value));
    }

    [Theory]
    [InlineData("\"\\ud800\"")]
    [InlineData("\"\\udc00\\ud800\"")]
    [InlineData("{\"\\ud800\":1}")]
    public void WriteReplace_RawValueWithUnpairedSurrogateEscape_RefusedBeforeWriting(string value)
    {
        AssertRefusedBeforeWriting(w => w.WriteReplace("/a", Encoding.UTF8.GetBytes(value)));
    }

    [Fact]
    public void WriteAdd_RawValueWithLineBreaks_OutputStaysOnOneLine()
    {
        var text = Write(static w => w.WriteAdd("/a", "{\r\n  \"x\": [1,\n 2],\n  \"s\": \"a\\nb\"\n}"u8));

        Assert.Equal("""[{"op":"add","path":"/a","value":{"x":[1,2],"s":"a\nb"}}]""", text);
        Assert.DoesNotContain('\n', text);
        Assert.DoesNotContain('\r', text);
    }

    [Fact]
    public void WriteAdd_UndefinedElement_Refused()
    {
        AssertRefusedBeforeWriting(static w => w.WriteAdd("/a", default(JsonElement)));
    }

    [Theory]
    [InlineData("a")]
    [InlineData("a/b")]
    [InlineData("/~")]
    [InlineData("/a~2")]
    [InlineData("/a~")]
    public void Write_InvalidPath_RefusedBeforeWriting(string path) => AssertPathRefused(path);

    [Fact]
    public void Write_UnpairedSurrogateInPath_RefusedBeforeWriting()
    {
        // Not theory rows: xunit's serialization of test data would turn these into U+FFFD. Utf8JsonWriter drops an
        // unpaired surrogate silently, so without the check another path would be written.
        foreach (var path in new[] { "/a\ud800", "/\ud800b", "/\udc00\ud800", "/x/\udfff" })
        {
            AssertPathRefused(path);
        }
    }

    private static void AssertPathRefused(string path)
    {
        AssertRefusedBeforeWriting(w => w.WriteRemove(path));
        AssertRefusedBeforeWriting(w => w.WriteAdd(path, "1"u8));
        AssertRefusedBeforeWriting(w => w.WriteMove("/ok", path));
        AssertRefusedBeforeWriting(w => w.WriteMove(path, "/ok"));
        AssertRefusedBeforeWriting(w => w.WriteCopy(path, "/ok"));
    }

    [Fact]
    public void Write_SurrogatePairInPath_WrittenAsUtf8()
    {
        Assert.Equal("[{\"op\":\"remove\",\"path\":\"/\U0001F680\"}]", Write(static w => w.WriteRemove("/\U0001F680")));
    }

    [Fact]
    public void Write_MinimalEscaping_HtmlAndNonAsciiRawQuotesAndControlsEscaped()
    {
        using var value = JsonDocument.Parse("{\"<k>&'\":\"+<>é\\u00e9\\u2028\",\"q\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000\\u001f\\u007f\"}");

        var text = Write(w => w.WriteAdd("/+<>é\"\\\u0001", value.RootElement));

        Assert.Equal(
            "[{\"op\":\"add\",\"path\":\"/+<>é\\\"\\\\\\u0001\",\"value\":{\"<k>&'\":\"+<>éé\u2028\",\"q\":\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0000\\u001F\u007f\"}}]",
            text);
    }

    [Fact]
    public void Write_Output_ParsesBackToSameOperations()
    {
        const string Json = """[{"op":"add","path":"/a~1b/é","value":{"x":"\"<>\u0001"}},{"op":"remove","path":"/"},{"op":"replace","path":"","value":[1,2.5,-3e10]},{"op":"move","from":"/x","path":"/y"},{"op":"copy","from":"/~0","path":"/z/-"},{"op":"test","path":"/n","value":null}]""";
        var patch = JsonPatchDocument.Parse(Json);

        var bytes = patch.ToUtf8Bytes();

        using (var reparsed = JsonDocument.Parse(bytes))
        using (var original = JsonDocument.Parse(Json))
        {
            Assert.True(JsonElement.DeepEquals(original.RootElement, reparsed.RootElement), Encoding.UTF8.GetString(bytes));
        }

        Assert.Equal(patch, JsonPatchDocument.Parse(bytes));
        Assert.Equal(Encoding.UTF8.GetString(bytes), patch.ToString());
    }

    [Fact]
    public void WriteOperation_Constructed_MatchesParsedForm()
    {
        using var value = JsonDocument.Parse("[1]");
        var operations = new[]
        {
            JsonPatchOperation.Add(JsonPointer.Create("a/b"), value.RootElement),
            JsonPatchOperation.Copy(JsonPointer.Parse("/x"), JsonPointer.Parse("/y/-")),
        };

        Assert.Equal("""{"op":"add","path":"/a~1b","value":[1]}""", operations[0].ToString());
        Assert.Equal("""{"op":"copy","path":"/y/-","from":"/x"}""", operations[1].ToString());
        Assert.Equal("""[{"op":"add","path":"/a~1b","value":[1]},{"op":"copy","path":"/y/-","from":"/x"}]""", JsonPatchDocument.Create(operations).ToString());
    }

    [Fact]
    public void WriteAdd_CallbackWritesNothing_Throws()
    {
        var output = new ArrayBufferWriter<byte>();
        using var writer = new JsonPatchWriter(output);
        writer.WriteStartPatch();

        Assert.Throws<InvalidOperationException>(() => writer.WriteAdd("/a", 0, static (_, _) => { }));
    }

    [Fact]
    public void SkipValueValidation_CopiesRawValueVerbatim()
    {
        var output = new ArrayBufferWriter<byte>();
        using (var writer = new JsonPatchWriter(output, skipValueValidation: true))
        {
            writer.WriteStartPatch();
            writer.WriteAdd("/a", "{ \"x\" : 1 }"u8);
            writer.WriteEndPatch();
        }

        Assert.Equal("""[{"op":"add","path":"/a","value":{ "x" : 1 }}]""", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    private static string Write(Action<JsonPatchWriter> write)
    {
        var output = new ArrayBufferWriter<byte>();
        using (var writer = new JsonPatchWriter(output))
        {
            writer.WriteStartPatch();
            write(writer);
            writer.WriteEndPatch();
        }

        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    private static void AssertRefusedBeforeWriting(Action<JsonPatchWriter> write)
    {
        var output = new ArrayBufferWriter<byte>();
        using var writer = new JsonPatchWriter(output);
        writer.WriteStartPatch();
        writer.WriteRemove("/before");
        var pending = writer.BytesPending;

        Assert.ThrowsAny<ArgumentException>(() => write(writer));

        // Nothing of the refused operation was written, and the writer goes on with a well-formed patch.
        Assert.Equal(pending, writer.BytesPending);
        writer.WriteRemove("/after");
        writer.WriteEndPatch();
        writer.Flush();
        Assert.Equal("""[{"op":"remove","path":"/before"},{"op":"remove","path":"/after"}]""", Encoding.UTF8.GetString(output.WrittenSpan));
    }
}
