using System;
using System.Buffers;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Rocket.JsonPatch;
using MicrosoftPatch = Microsoft.AspNetCore.JsonPatch.SystemTextJson.JsonPatchDocument;

namespace Rocket.Benchmarks.JsonPatch;

/// <summary>
/// Writing the 8-operation <see cref="PatchScenario"/> patch into a reused buffer, three ways: a hand-written
/// <see cref="Utf8JsonWriter"/> loop (the anchor: the least work that produces these bytes), Rocket's
/// <see cref="JsonPatchWriter"/>, and building plus serializing Microsoft.AspNetCore.JsonPatch.SystemTextJson's
/// <see cref="MicrosoftPatch"/>. All three start from the same .NET values (strings, a bool, a <see cref="MessageRecord"/>).
/// </summary>
[MemoryDiagnoser]
public class PatchWriteBenchmarks
{
    private static readonly JsonEncodedText OpName = JsonEncodedText.Encode("op");
    private static readonly JsonEncodedText PathName = JsonEncodedText.Encode("path");
    private static readonly JsonEncodedText FromName = JsonEncodedText.Encode("from");
    private static readonly JsonEncodedText ValueName = JsonEncodedText.Encode("value");
    private static readonly JsonEncodedText TestOp = JsonEncodedText.Encode("test");
    private static readonly JsonEncodedText ReplaceOp = JsonEncodedText.Encode("replace");
    private static readonly JsonEncodedText AddOp = JsonEncodedText.Encode("add");
    private static readonly JsonEncodedText CopyOp = JsonEncodedText.Encode("copy");
    private static readonly JsonEncodedText MoveOp = JsonEncodedText.Encode("move");
    private static readonly JsonEncodedText RemoveOp = JsonEncodedText.Encode("remove");

    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private Utf8JsonWriter _json = null!;
    private JsonPatchWriter _rocket = null!;

    [GlobalSetup]
    public void Setup()
    {
        _json = new Utf8JsonWriter(_buffer);
        _rocket = new JsonPatchWriter(_buffer);

        HandWrittenUtf8JsonWriter();
        var handWritten = _buffer.WrittenSpan.ToArray();
        PatchScenario.ThrowUnlessSamePatch(handWritten, nameof(HandWrittenUtf8JsonWriter));

        RocketJsonPatchWriter();
        var rocket = _buffer.WrittenSpan.ToArray();
        PatchScenario.ThrowUnlessSamePatch(rocket, nameof(RocketJsonPatchWriter));
        if (!rocket.AsSpan().SequenceEqual(handWritten))
        {
            throw new InvalidOperationException("Rocket's writer and the hand-written loop wrote different bytes for the same patch.");
        }

        MicrosoftBuildAndSerialize();
        PatchScenario.ThrowUnlessSamePatch(_buffer.WrittenSpan, nameof(MicrosoftBuildAndSerialize));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _json.Dispose();
        _rocket.Dispose();
    }

    [Benchmark(Baseline = true)]
    public int HandWrittenUtf8JsonWriter()
    {
        _buffer.ResetWrittenCount();
        var json = _json;
        json.Reset(_buffer);
        json.WriteStartArray();

        json.WriteStartObject();
        json.WriteString(OpName, TestOp);
        json.WriteString(PathName, PatchScenario.TestPath);
        json.WriteString(ValueName, PatchScenario.TestValue);
        json.WriteEndObject();

        json.WriteStartObject();
        json.WriteString(OpName, ReplaceOp);
        json.WriteString(PathName, PatchScenario.TextPath);
        json.WriteString(ValueName, PatchScenario.TextValue);
        json.WriteEndObject();

        json.WriteStartObject();
        json.WriteString(OpName, ReplaceOp);
        json.WriteString(PathName, PatchScenario.EditedPath);
        json.WriteBoolean(ValueName, true);
        json.WriteEndObject();

        json.WriteStartObject();
        json.WriteString(OpName, ReplaceOp);
        json.WriteString(PathName, PatchScenario.TagPath);
        json.WriteString(ValueName, PatchScenario.TagValue);
        json.WriteEndObject();

        json.WriteStartObject();
        json.WriteString(OpName, AddOp);
        json.WriteString(PathName, PatchScenario.AddPath);
        json.WritePropertyName(ValueName);
        PatchScenario.WriteMessage(json, PatchScenario.NewMessage);
        json.WriteEndObject();

        json.WriteStartObject();
        json.WriteString(OpName, CopyOp);
        json.WriteString(PathName, PatchScenario.CopyPath);
        json.WriteString(FromName, PatchScenario.CopyFrom);
        json.WriteEndObject();

        json.WriteStartObject();
        json.WriteString(OpName, MoveOp);
        json.WriteString(PathName, PatchScenario.MovePath);
        json.WriteString(FromName, PatchScenario.MoveFrom);
        json.WriteEndObject();

        json.WriteStartObject();
        json.WriteString(OpName, RemoveOp);
        json.WriteString(PathName, PatchScenario.RemovePath);
        json.WriteEndObject();

        json.WriteEndArray();
        json.Flush();
        return _buffer.WrittenCount;
    }

    [Benchmark]
    public int RocketJsonPatchWriter()
    {
        _buffer.ResetWrittenCount();
        var writer = _rocket;
        writer.Reset(_buffer);
        writer.WriteStartPatch();
        // Values from .NET data go through the callback overload; a constant JSON literal goes in as raw UTF-8,
        // which the writer validates (its default).
        writer.WriteTest(PatchScenario.TestPath, PatchScenario.TestValue, static (w, s) => w.WriteStringValue(s));
        writer.WriteReplace(PatchScenario.TextPath, PatchScenario.TextValue, static (w, s) => w.WriteStringValue(s));
        writer.WriteReplace(PatchScenario.EditedPath, "true"u8);
        writer.WriteReplace(PatchScenario.TagPath, PatchScenario.TagValue, static (w, s) => w.WriteStringValue(s));
        writer.WriteAdd(PatchScenario.AddPath, PatchScenario.NewMessage, PatchScenario.WriteMessage);
        writer.WriteCopy(PatchScenario.CopyFrom, PatchScenario.CopyPath);
        writer.WriteMove(PatchScenario.MoveFrom, PatchScenario.MovePath);
        writer.WriteRemove(PatchScenario.RemovePath);
        writer.WriteEndPatch();
        writer.Flush();
        return _buffer.WrittenCount;
    }

    [Benchmark]
    public int MicrosoftBuildAndSerialize()
    {
        _buffer.ResetWrittenCount();
        var patch = new MicrosoftPatch()
            .Test(PatchScenario.TestPath, PatchScenario.TestValue)
            .Replace(PatchScenario.TextPath, PatchScenario.TextValue)
            .Replace(PatchScenario.EditedPath, true)
            .Replace(PatchScenario.TagPath, PatchScenario.TagValue)
            .Add(PatchScenario.AddPath, PatchScenario.NewMessage)
            .Copy(PatchScenario.CopyFrom, PatchScenario.CopyPath)
            .Move(PatchScenario.MoveFrom, PatchScenario.MovePath)
            .Remove(PatchScenario.RemovePath);
        _json.Reset(_buffer);
        JsonSerializer.Serialize(_json, patch);
        _json.Flush();
        return _buffer.WrittenCount;
    }
}
