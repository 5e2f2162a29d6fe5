using System;
using System.Buffers;
using System.Collections.Generic;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rocket.JsonPatch;

namespace Rocket.Core.Tests.JsonPatch;

/// <summary>Properties checked on random documents and patches from fixed seeds (a failure names its seed).</summary>
public sealed class PropertyTests
{
    private const int Iterations = 300;

    [Fact]
    public void WriteThenParse_RandomOperations_SameOperations()
    {
        for (var seed = 0; seed < Iterations; seed++)
        {
            var random = new RandomJson(seed);
            var operations = new List<JsonPatchOperation>();
            var count = random.Next(6);
            for (var i = 0; i < count; i++)
            {
                operations.Add(random.Operation());
            }

            var patch = JsonPatchDocument.Create(operations);
            var bytes = patch.ToUtf8Bytes();
            var parsed = JsonPatchDocument.Parse(bytes);

            Assert.True(Equal(patch, parsed), $"seed {seed}: {Encoding.UTF8.GetString(bytes)}");
            Assert.DoesNotContain((byte)'\n', bytes);
            Assert.Equal(bytes, parsed.ToUtf8Bytes());
        }
    }

    [Fact]
    public void WriterWithRawValues_RandomOperations_ParsesToSameOperations()
    {
        for (var seed = 0; seed < Iterations; seed++)
        {
            var random = new RandomJson(10_000 + seed);
            var operations = new List<JsonPatchOperation>();
            var output = new ArrayBufferWriter<byte>();
            using (var writer = new JsonPatchWriter(output))
            {
                writer.WriteStartPatch();
                var count = 1 + random.Next(5);
                for (var i = 0; i < count; i++)
                {
                    var operation = random.Operation();
                    operations.Add(operation);
                    var path = operation.Path.ToString();
                    var raw = operation.HasValue ? Encoding.UTF8.GetBytes(operation.Value.GetRawText()) : [];
                    switch (operation.Op)
                    {
                        case JsonPatchOperationType.Add: writer.WriteAdd(path, raw); break;
                        case JsonPatchOperationType.Replace: writer.WriteReplace(path, raw); break;
                        case JsonPatchOperationType.Test: writer.WriteTest(path, raw); break;
                        case JsonPatchOperationType.Remove: writer.WriteRemove(path); break;
                        case JsonPatchOperationType.Move: writer.WriteMove(operation.From.ToString(), path); break;
                        default: writer.WriteCopy(operation.From.ToString(), path); break;
                    }
                }

                writer.WriteEndPatch();
            }

            var parsed = JsonPatchDocument.Parse(output.WrittenSpan);
            Assert.True(Equal(JsonPatchDocument.Create(operations), parsed), $"seed {seed}: {Encoding.UTF8.GetString(output.WrittenSpan)}");
        }
    }

    [Fact]
    public void Apply_RandomApplicablePatch_NodeUtf8AndStepwiseAgree()
    {
        for (var seed = 0; seed < Iterations; seed++)
        {
            var (original, patch) = RandomApplicablePatch(seed);

            var viaNode = patch.ApplyTo(original.DeepClone());
            var viaUtf8 = JsonNode.Parse(patch.ApplyToUtf8(Encoding.UTF8.GetBytes(original.ToJsonString())));
            JsonNode? stepwise = original.DeepClone();
            foreach (var operation in patch)
            {
                stepwise = JsonPatchDocument.Create([operation]).ApplyTo(stepwise);
            }

            Assert.True(JsonNode.DeepEquals(viaNode, viaUtf8), $"seed {seed}: {patch}");
            Assert.True(JsonNode.DeepEquals(viaNode, stepwise), $"seed {seed}: {patch}");
        }
    }

    [Fact]
    public void Apply_RandomPatchWhoseLastOperationFails_DocumentUnchanged()
    {
        // A test no random document can pass: the member name is not in the generator's alphabet.
        var impossible = JsonPatchOperation.Test(JsonPointer.Root, JsonElement.Parse("""{"never generated":[]}"""));
        for (var seed = 0; seed < Iterations; seed++)
        {
            var (original, patch) = RandomApplicablePatch(seed);
            var failing = JsonPatchDocument.Create([.. patch, impossible]);
            var before = original.ToJsonString();
            var nodes = new List<JsonNode?>();
            foreach (var location in RandomJson.Locations(original))
            {
                nodes.Add(RandomJson.At(original, location));
            }

            var error = Assert.Throws<JsonPatchException>(() => failing.ApplyTo(original));

            Assert.Equal(JsonPatchError.TestFailed, error.Error);
            Assert.Equal(patch.Count, error.OperationIndex);
            Assert.Equal(before, original.ToJsonString());
            var locations = RandomJson.Locations(original);
            Assert.Equal(nodes.Count, locations.Count);
            for (var i = 0; i < nodes.Count; i++)
            {
                Assert.True(ReferenceEquals(nodes[i], RandomJson.At(original, locations[i])), $"seed {seed}: node at {locations[i]} replaced; {patch}");
            }
        }
    }

    /// <summary>A random document and a patch of up to 8 operations that applies to it, each checked as it is drawn.</summary>
    private static (JsonNode Original, JsonPatchDocument Patch) RandomApplicablePatch(int seed)
    {
        var random = new RandomJson(20_000 + seed);
        var original = random.Document();
        JsonNode? working = original.DeepClone();
        var operations = new List<JsonPatchOperation>();
        var wanted = 1 + random.Next(8);
        for (var attempt = 0; operations.Count < wanted && attempt < 50; attempt++)
        {
            if (random.ApplicableOperation(working) is not { } operation)
            {
                continue;
            }

            try
            {
                working = JsonPatchDocument.Create([operation]).ApplyTo(working);
                operations.Add(operation);
            }
            catch (JsonPatchException)
            {
                // Drawn but not applicable here (an index past the end after a move, say): draw another.
            }
        }

        Assert.NotEmpty(operations);
        return (original, JsonPatchDocument.Create(operations));
    }

    private static bool Equal(JsonPatchDocument left, JsonPatchDocument right)
    {
        if (left.Count != right.Count)
        {
            return false;
        }

        for (var i = 0; i < left.Count; i++)
        {
            if (!left[i].Equals(right[i]))
            {
                return false;
            }
        }

        return true;
    }
}
