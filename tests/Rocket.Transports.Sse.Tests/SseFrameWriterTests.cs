using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.Net.ServerSentEvents;
using System.Text;
using Rocket.Transports.Sse;

namespace Rocket.Transports.Sse.Tests;

public class SseFrameWriterTests
{
    [Fact]
    public void WriteEvent_PatchWithId_IsByteExact()
    {
        var output = new ArrayBufferWriter<byte>();

        SseFrameWriter.WriteEvent(output, SseEventType.Patch, "7f3a.42"u8, """[{"op":"remove","path":"/messages/1"}]"""u8);

        Assert.Equal("event: patch\nid: 7f3a.42\ndata: [{\"op\":\"remove\",\"path\":\"/messages/1\"}]\n\n", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void WriteEvent_NoTypeNoId_WritesDataOnly()
    {
        var output = new ArrayBufferWriter<byte>();

        SseFrameWriter.WriteEvent(output, null, default, "x"u8);

        Assert.Equal("data: x\n\n", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Theory]
    [InlineData("a\nb", "data: a\ndata: b\n\n")]
    [InlineData("a\r\nb", "data: a\ndata: b\n\n")]
    [InlineData("a\rb\n", "data: a\ndata: b\ndata: \n\n")]
    [InlineData("", "data: \n\n")]
    public void WriteEvent_DataWithLineBreaks_WritesOneDataLinePerLine(string data, string expected)
    {
        var output = new ArrayBufferWriter<byte>();
        var bytes = Encoding.UTF8.GetBytes(data);

        SseFrameWriter.WriteEvent(output, null, default, bytes);

        Assert.Equal(expected, Encoding.UTF8.GetString(output.WrittenSpan));
        Assert.Equal(output.WrittenCount, SseFrameWriter.GetEventLength(null, default, bytes));
    }

    [Theory]
    [InlineData("a\rb")]
    [InlineData("a\nb")]
    [InlineData("a\0b")]
    public void WriteEvent_IdWithLineBreakOrNul_IsRefusedAndWritesNothing(string id)
    {
        var output = new ArrayBufferWriter<byte>();

        Assert.Throws<ArgumentException>(() => SseFrameWriter.WriteEvent(output, SseEventType.Patch, Encoding.UTF8.GetBytes(id), "[]"u8));
        Assert.Equal(0, output.WrittenCount);
    }

    [Theory]
    [InlineData("pa\rtch")]
    [InlineData("pa\ntch")]
    [InlineData("pa\0tch")]
    [InlineData("")]
    public void SseEventType_InvalidName_IsRefusedWhereBuilt(string name)
    {
        Assert.Throws<ArgumentException>(() => new SseEventType(name));
    }

    [Fact]
    public void WriteRetryAndComment_AreByteExact()
    {
        var output = new ArrayBufferWriter<byte>();

        SseFrameWriter.WriteRetry(output, TimeSpan.FromSeconds(2.5));
        SseFrameWriter.WriteComment(output, "rocket é");
        SseFrameWriter.WriteComment(output, "");

        Assert.Equal("retry: 2500\n: rocket é\n:\n", Encoding.UTF8.GetString(output.WrittenSpan));
        Assert.Throws<ArgumentException>(() => SseFrameWriter.WriteComment(output, "a\nb"));
    }

    [Fact]
    public void Frames_ReadBySseParser_RoundTrip()
    {
        var output = new ArrayBufferWriter<byte>();
        SseFrameWriter.WriteRetry(output, TimeSpan.FromSeconds(3));
        SseFrameWriter.WriteComment(output, "hello");
        SseFrameWriter.WriteEvent(output, SseEventType.Patch, "e1.1"u8, """[{"op":"add","path":"/m/1","value":{"t":"a\nb é"}}]"""u8);
        SseFrameWriter.WriteEvent(output, new SseEventType("other"), "e1.2"u8, "line1\nline2"u8);

        var parser = SseParser.Create(new MemoryStream(output.WrittenSpan.ToArray()));
        var items = new List<SseItem<string>>(parser.Enumerate());

        Assert.Equal(2, items.Count);
        Assert.Equal("patch", items[0].EventType);
        Assert.Equal("e1.1", items[0].EventId);
        Assert.Equal("""[{"op":"add","path":"/m/1","value":{"t":"a\nb é"}}]""", items[0].Data);
        Assert.Equal(TimeSpan.FromSeconds(3), items[0].ReconnectionInterval);
        Assert.Equal("other", items[1].EventType);
        Assert.Equal("e1.2", items[1].EventId);
        Assert.Equal("line1\nline2", items[1].Data);
        Assert.Equal(TimeSpan.FromSeconds(3), parser.ReconnectionInterval);
    }
}
