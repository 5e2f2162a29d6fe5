using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;
using CsCheck;
using Rocket.JsonPatch;
using Rocket.Live;
using Rocket.Transports;
using Xunit.Abstractions;

namespace Rocket.Fuzz.Tests;

/// <summary>
/// Random sequences of creates, updates, deletes, patches, conditional writes and change sets, with random (sometimes
/// invalid) JSON and ids, on a <see cref="LiveCollection"/> against a model of its records: each write either succeeds
/// and changes exactly what the model says, or throws <see cref="ChangeRefusedException"/> and changes nothing (records,
/// snapshot, cursor); and a subscriber that applies every event it was sent ends with the collection's document.
/// </summary>
public sealed class LiveCollectionFuzzTests(ITestOutputHelper output)
{
    private static readonly JsonDocumentOptions Deep = new() { MaxDepth = 128 };

    /// <summary>
    /// Ids that are hard for paths and URLs: separators, escapes, dots, spaces, non-ASCII, unpaired surrogates, the empty id.
    /// </summary>
    private static readonly Gen<string> Id = Gen.Frequency(
        (16, Gen.OneOf("a", "b", "c", "a/b", "~", "~1", "%2F", "..", ".", "é", "\U0001F680", " ", "x y", "")),
        (1, Gen.OneOf("\uD800", "a\uDC00", "\uDC00\uD800")),
        (1, Gen.String[0, 4]));

    private static readonly Gen<byte[]> Value = Gen.Frequency(
        (6, Gens.Object(3).Select(static node => Encoding.UTF8.GetBytes(Gens.Text(node, relaxed: true)))),
        (1, Gens.Json(2).Select(static node => Encoding.UTF8.GetBytes(Gens.Text(node, relaxed: false)))),
        (1, Gens.Deep.Select(static node => Encoding.UTF8.GetBytes(Gens.Text(node, relaxed: true)))),
        (1, Gen.Int[0, 400].Select(static n => Encoding.UTF8.GetBytes($$"""{"text":"{{new string('x', n)}}"}"""))),
        (2, Gens.Mutated(Gens.Object(2).Select(static node => Encoding.UTF8.GetBytes(Gens.Text(node, relaxed: true))), max: 2)));

    private static readonly Gen<Step> Steps = Gen.Select(
        Gen.Frequency((4, Gen.Const(StepKind.Create)), (3, Gen.Const(StepKind.Update)), (2, Gen.Const(StepKind.Delete)), (4, Gen.Const(StepKind.Patch)), (1, Gen.Const(StepKind.UpdateIfCurrent)), (1, Gen.Const(StepKind.DeleteIfCurrent)), (2, Gen.Const(StepKind.ChangeSet))),
        Id,
        Value,
        Gens.Patch(Gens.Pointer, 3),
        Gen.Bool,
        Gen.Select(Gen.Int[0, 2], Id, Value).Array[2, 3],
        static (kind, id, value, patch, current, changes) => new Step(kind, id, value, patch, current, changes));

    private static readonly Gen<LiveCollectionOptions> Options = Gen.Select(
        Gen.OneOf(LiveCollectionOptions.DefaultMaxRecordBytes, 64, 256),
        Gen.OneOf(LiveCollectionOptions.DefaultMaxRecordDepth, 2, 4),
        Gen.Enum<UpdateEncoding>(),
        static (bytes, depth, encoding) => new LiveCollectionOptions { MaxRecordBytes = bytes, MaxRecordDepth = depth, UpdateEncoding = encoding, HeartbeatInterval = Timeout.InfiniteTimeSpan });

    private enum StepKind
    {
        Create,
        Update,
        Delete,
        Patch,
        UpdateIfCurrent,
        DeleteIfCurrent,
        ChangeSet,
    }

    [Fact]
    public void Writes_RandomSequences_ApplyAsModelOrRefusedWithNothingChanged()
    {
        int written = 0, refused = 0;
        Fuzz.Run(
            Gen.Select(Options, Steps.Array[1, 20]),
            t =>
            {
                var (w, r) = Check(t.Item1, t.Item2);
                Interlocked.Add(ref written, w);
                Interlocked.Add(ref refused, r);
            },
            seed: 0x5EED_0301,
            ciCases: 400,
            output,
            cost: 20,
            print: static t => $"MaxRecordBytes {t.Item1.MaxRecordBytes}, MaxRecordDepth {t.Item1.MaxRecordDepth}, {t.Item1.UpdateEncoding}\n{string.Join("\n", t.Item2.Select(static s => s.ToString()))}");
        output.WriteLine($"{written} writes applied, {refused} refused");
        Assert.InRange(written, 1, int.MaxValue);
        Assert.InRange(refused, 1, int.MaxValue);
    }

    private static (int Written, int Refused) Check(LiveCollectionOptions options, Step[] steps)
    {
        using var collection = new LiveCollection("messages", options);
        var transport = new InMemoryTransport();
        using var subscription = collection.Subscribe(transport);
        var model = new OrderedDictionary<string, byte[]>(StringComparer.Ordinal);
        int written = 0, refused = 0;
        foreach (var step in steps)
        {
            var cursor = collection.Cursor;
            var snapshot = collection.GetSnapshot().ToKeyedJson();
            Cursor after;
            byte[]? stored = null;
            try
            {
                after = step.Apply(collection, model, out stored);
            }
            catch (ChangeRefusedException e)
            {
                refused++;
                Assert.True(cursor == collection.Cursor, $"{step}: refused ({e.Reason}) but the cursor moved");
                Assert.True(snapshot.AsSpan().SequenceEqual(collection.GetSnapshot().ToKeyedJson()), $"{step}: refused ({e.Reason}) but the records changed");
                AssertRefusalFitsModel(step, e, model);
                continue;
            }

            written++;
            Assert.True(step.Kind == StepKind.ChangeSet || (step.Id.Length > 0 && IsUnicode(step.Id)), $"{step}: an invalid id was written");
            var published = after.Sequence - cursor.Sequence;
            Assert.True(after == collection.Cursor, $"{step}: returned {after}, the collection is at {collection.Cursor}");
            Assert.True(published == 1 || (published == 0 && options.UpdateEncoding == UpdateEncoding.Diff), $"{step}: the cursor moved by {published}");
            step.ApplyTo(model, stored);
            AssertSameRecords(model, collection, step);
        }

        // Every event the subscriber was sent, applied in order to nothing, gives the collection's document.
        var frames = (int)collection.Cursor.Sequence + 1;
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            transport.WaitForFramesAsync(frames, timeout.Token).GetAwaiter().GetResult();
        }

        JsonNode? document = null;
        foreach (var frame in transport.Frames.Take(frames))
        {
            Assert.True(InMemoryEventFramer.TryDecode(frame, out _, out var patch));
            document = JsonPatchDocument.Parse(patch).ApplyTo(document, new JsonPatchApplyOptions { MaxDepth = 128 });
        }

        var expected = JsonNode.Parse(collection.GetSnapshot().ToKeyedJson(), documentOptions: Deep);
        // A diff of an update keeps the members the client has where they are (JSON objects are unordered).
        var same = options.UpdateEncoding == UpdateEncoding.Diff ? ReferencePatch.SameAsJson(expected, document) : ReferencePatch.SameInOrder(expected, document);
        Assert.True(same, $"The stream gives {Gens.Text(document, true)}, the collection holds {Gens.Text(expected, true)}");
        Assert.Null(transport.CloseReason);
        return (written, refused);
    }

    private static void AssertRefusalFitsModel(Step step, ChangeRefusedException e, OrderedDictionary<string, byte[]> model)
    {
        if (step.Kind == StepKind.ChangeSet)
        {
            return;
        }

        switch (e.Reason)
        {
            case ChangeRefusal.InvalidId:
                Assert.True(step.Id.Length == 0 || !IsUnicode(step.Id), $"{step}: refused as an invalid id");
                break;
            case ChangeRefusal.RecordNotFound:
                Assert.False(model.ContainsKey(step.Id), $"{step}: refused as not found, but the record exists");
                break;
            case ChangeRefusal.RecordAlreadyExists:
                Assert.True(step.Kind == StepKind.Create && model.ContainsKey(step.Id), $"{step}: refused as existing");
                break;
            case ChangeRefusal.PreconditionFailed:
                Assert.False(step.IfCurrent, $"{step}: refused as changed, with the current value as expected");
                break;
            case ChangeRefusal.PatchFailed:
                Assert.Equal(StepKind.Patch, step.Kind);
                break;
        }
    }

    private static bool IsUnicode(string text)
    {
        try
        {
            _ = new UTF8Encoding(false, throwOnInvalidBytes: true).GetByteCount(text);
            return true;
        }
        catch (EncoderFallbackException)
        {
            return false;
        }
    }

    private static void AssertSameRecords(OrderedDictionary<string, byte[]> model, LiveCollection collection, Step step)
    {
        var records = collection.GetSnapshot().Records;
        Assert.True(model.Count == records.Count, $"{step}: the model has {model.Count} records, the collection {records.Count}");
        var i = 0;
        foreach (var (id, value) in model)
        {
            Assert.True(records[i].Key == id && records[i].Value.Span.SequenceEqual(value), $"{step}: record {i} is {records[i].Key}, the model has {id}");
            Assert.True(collection.TryGet(id, out var got) && got.Span.SequenceEqual(value));
            i++;
        }
    }

    private sealed record Step(StepKind Kind, string Id, byte[] Value, string Patch, bool IfCurrent, (int Kind, string Id, byte[] Value)[] Changes)
    {
        public Cursor Apply(LiveCollection collection, OrderedDictionary<string, byte[]> model, out byte[]? stored)
        {
            stored = null;
            var expected = IfCurrent && model.TryGetValue(Id, out var current) ? current : "{}"u8.ToArray();
            switch (Kind)
            {
                case StepKind.Create:
                    return collection.Create(Id, Value);
                case StepKind.Update:
                    return collection.Update(Id, Value);
                case StepKind.Delete:
                    return collection.Delete(Id);
                case StepKind.UpdateIfCurrent:
                    return collection.Update(Id, Value, expected);
                case StepKind.DeleteIfCurrent:
                    return collection.Delete(Id, expected);
                case StepKind.Patch:
                    JsonPatchDocument patch;
                    try
                    {
                        patch = JsonPatchDocument.Parse(Patch);
                    }
                    catch (JsonPatchException)
                    {
                        patch = JsonPatchDocument.Empty;
                    }

                    var cursor = collection.Patch(Id, patch, out var record);
                    stored = record.ToArray();
                    return cursor;
                default:
                    return collection.Apply(new ChangeSet(Changes.Select(static c => c.Kind switch
                    {
                        0 => RecordChange.Create(c.Id, c.Value),
                        1 => RecordChange.Update(c.Id, c.Value),
                        _ => RecordChange.Destroy(c.Id),
                    })));
            }
        }

        public void ApplyTo(OrderedDictionary<string, byte[]> model, byte[]? stored)
        {
            switch (Kind)
            {
                case StepKind.Create:
                    Assert.True(model.TryAdd(Id, Value), $"{this}: created a record that exists");
                    break;
                case StepKind.Update or StepKind.UpdateIfCurrent:
                    Assert.True(model.ContainsKey(Id), $"{this}: updated a record that does not exist");
                    model[Id] = Value;
                    break;
                case StepKind.Delete or StepKind.DeleteIfCurrent:
                    Assert.True(model.Remove(Id), $"{this}: deleted a record that does not exist");
                    break;
                case StepKind.Patch:
                    Assert.True(model.ContainsKey(Id), $"{this}: patched a record that does not exist");
                    model[Id] = stored!;
                    break;
                default:
                    foreach (var (kind, id, value) in Changes)
                    {
                        switch (kind)
                        {
                            case 0:
                                Assert.True(model.TryAdd(id, value), $"{this}: created a record that exists");
                                break;
                            case 1:
                                Assert.True(model.ContainsKey(id), $"{this}: updated a record that does not exist");
                                model[id] = value;
                                break;
                            default:
                                Assert.True(model.Remove(id), $"{this}: deleted a record that does not exist");
                                break;
                        }
                    }

                    break;
            }
        }

        public override string ToString() => Kind switch
        {
            StepKind.Delete or StepKind.DeleteIfCurrent => $"{Kind} {Show(Id)}{(Kind == StepKind.DeleteIfCurrent ? $" expecting {(IfCurrent ? "current" : "{}")}" : "")}",
            StepKind.Patch => $"{Kind} {Show(Id)} {Patch}",
            StepKind.ChangeSet => $"{Kind} [{string.Join(", ", Changes.Select(static c => $"{(c.Kind == 0 ? "create" : c.Kind == 1 ? "update" : "destroy")} {Show(c.Id)} {Gens.Show(c.Value)}"))}]",
            _ => $"{Kind} {Show(Id)} {Gens.Show(Value)}{(Kind == StepKind.UpdateIfCurrent ? $" expecting {(IfCurrent ? "current" : "{}")}" : "")}",
        };

        private static string Show(string id) => "\"" + string.Concat(id.Select(static c => c is >= ' ' and < '\u007f' ? c.ToString() : $"\\u{(int)c:x4}")) + "\"";
    }
}
