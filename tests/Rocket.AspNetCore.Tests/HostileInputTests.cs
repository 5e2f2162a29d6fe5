using System;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;

namespace Rocket.AspNetCore.Tests;

/// <summary>
/// Requests built to hurt the server, each refused with a problem response while the collection's state and cursor stay
/// exactly as they were: budgets are enforced while a patch is applied, not after.
/// </summary>
public sealed class HostileInputTests
{
    // Twenty copies of the record into itself: 871 bytes that once built a 161 MB record.
    private static readonly string RootCopies =
        "[" + string.Join(",", Enumerable.Range(0, 20).Select(static i => $$"""{"op":"copy","from":"","path":"/c{{i}}"}""")) + "]";

    [Fact]
    public async Task Patch_RootCopiedTwentyTimes_413RecordTooLargeUnchanged()
    {
        await using var server = await RocketServer.StartAsync();
        var id = await CreateAsync(server, $$"""{"text":"{{new string('x', 1000)}}"}""");
        var before = await server.GetStateAsync();

        using var response = await PatchAsync(server, id, RootCopies);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "record-too-large", operationIndex: await ClientIndexAsync(response));
        Assert.Contains("size limit", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Fact]
    public async Task Patch_GrowsRecordPastConfiguredLimit_413AndRecordKeptAtLastGoodState()
    {
        await using var server = await RocketServer.StartAsync(static o => o.Collection = static c => c.MaxRecordBytes = 2048);
        var id = await CreateAsync(server, """{"items":[]}""");
        var add = $$"""[{"op":"add","path":"/items/-","value":"{{new string('y', 600)}}"}]""";
        for (var i = 0; i < 3; i++)
        {
            using var ok = await PatchAsync(server, id, add);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        var before = await server.GetStateAsync();

        using var response = await PatchAsync(server, id, add);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "record-too-large");
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Fact]
    public async Task Patch_PathDeeperThanRecordLimit_400RecordTooDeepUnchanged()
    {
        await using var server = await RocketServer.StartAsync();
        var id = await CreateAsync(server, """{"a":{}}""");
        var before = await server.GetStateAsync();
        var deep = string.Concat(Enumerable.Repeat("/a", 70));

        using var response = await PatchAsync(server, id, $$"""[{"op":"add","path":"/a/b","value":1},{"op":"add","path":"{{deep}}","value":1}]""");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "record-too-deep", operationIndex: 1);
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Fact]
    public async Task Patch_CopiesIntoEverDeeperPaths_400RecordTooDeepUnchanged()
    {
        // Each copy nests the record one level deeper (the record starts at depth 2, so copy k makes depth k + 3); the
        // depth budget stops the first copy past the collection's depth limit instead of finding out after the apply.
        await using var server = await RocketServer.StartAsync();
        var id = await CreateAsync(server, """{"n":{}}""");
        var before = await server.GetStateAsync();
        var ops = Enumerable.Range(0, 500).Select(static _ => """{"op":"copy","from":"","path":"/n"}""");

        using var response = await PatchAsync(server, id, "[" + string.Join(",", ops) + "]");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "record-too-deep", operationIndex: Rocket.Live.LiveCollectionOptions.DefaultMaxRecordDepth - 2);
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Fact]
    public async Task Patch_TestOfNumberWithHugeExponent_409TestFailedWithoutRuntimeMessage()
    {
        await using var server = await RocketServer.StartAsync();
        var id = await CreateAsync(server, """{"n":1e99999999999}""");
        var before = await server.GetStateAsync();

        using var response = await PatchAsync(server, id, """[{"op":"test","path":"/n","value":1e99999999998}]""");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Conflict, "test-failed", operationIndex: 0);
        Assert.DoesNotContain("exponent", problem.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(before, await server.GetStateAsync());

        using var equal = await PatchAsync(server, id, """[{"op":"test","path":"/n","value":10e99999999998}]""");
        Assert.Equal(HttpStatusCode.OK, equal.StatusCode);
    }

    [Fact]
    public async Task Post_OverConfiguredRecordLimit_413RecordTooLargeUnchanged()
    {
        await using var server = await RocketServer.StartAsync(static o => o.Collection = static c => c.MaxRecordBytes = 200);
        var before = await server.GetStateAsync();

        using var response = await server.Client.PostAsync("messages", RocketServer.Json($$"""{"text":"{{new string('z', 200)}}"}"""));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "record-too-large");
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Fact]
    public async Task Put_DeeperThanConfiguredRecordLimit_400RecordTooDeepUnchanged()
    {
        await using var server = await RocketServer.StartAsync(static o => o.Collection = static c => c.MaxRecordDepth = 3);
        var id = await CreateAsync(server, """{"a":[[]]}""");
        var before = await server.GetStateAsync();

        using var response = await server.Client.PutAsync($"messages/{id}", RocketServer.Json("""{"a":[[[]]]}"""));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "record-too-deep");
        Assert.Equal(before, await server.GetStateAsync());
    }

    // The operation index the problem document reports; the copy that crosses the budget depends on the record's size.
    private static async Task<int> ClientIndexAsync(HttpResponseMessage response)
    {
        var index = JsonElement.Parse(await response.Content.ReadAsStringAsync()).GetProperty("operationIndex").GetInt32();
        Assert.InRange(index, 1, 19);
        return index;
    }

    private static async Task<string> CreateAsync(RocketServer server, string json)
    {
        using var response = await server.Client.PostAsync("messages", RocketServer.Json(json));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return JsonElement.Parse(await response.Content.ReadAsStringAsync()).GetProperty("id").GetString()!;
    }

    private static async Task<HttpResponseMessage> PatchAsync(RocketServer server, string id, string patch)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, $"messages/{id}");
        request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(patch));
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json-patch+json");
        return await server.Client.SendAsync(request);
    }
}
