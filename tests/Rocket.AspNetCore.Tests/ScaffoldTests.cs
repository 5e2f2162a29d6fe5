using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Rocket.JsonPatch;
using Rocket.Live;

namespace Rocket.AspNetCore.Tests;

/// <summary>
/// The REST scaffold over the in-memory store: status codes, headers and problem documents on the wire, and that a
/// refused request leaves the collection's state and cursor exactly as they were (so it published nothing).
/// </summary>
public sealed class ScaffoldTests
{
    // ---- POST ------------------------------------------------------------------------------------------------------

    [Fact]
    public async Task Post_Object_201WithLocationETagAndServerIdFirst()
    {
        await using var server = await RocketServer.StartAsync();

        using var response = await server.Client.PostAsync("messages", RocketServer.Json("""{"text":"hi","n":1}"""));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        var body = await response.Content.ReadAsStringAsync();
        var id = JsonElement.Parse(body).GetProperty("id").GetString()!;
        Assert.Matches("^[0-9a-f]{32}$", id);
        Assert.Equal($$"""{"id":"{{id}}","text":"hi","n":1}""", body);
        Assert.Equal("/messages/" + id, response.Headers.Location?.OriginalString);
        var etag = response.Headers.ETag;
        Assert.NotNull(etag);
        Assert.False(etag.IsWeak);
        Assert.Matches("^\"[A-Za-z0-9_-]{16}\"$", etag.Tag);

        using var get = await server.Client.GetAsync(response.Headers.Location);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(body, await get.Content.ReadAsStringAsync());
        Assert.Equal(etag, get.Headers.ETag);
    }

    [Fact]
    public async Task Post_CharsetUtf8_201()
    {
        await using var server = await RocketServer.StartAsync();
        using var content = new ByteArrayContent("""{"text":"héllo"}"""u8.ToArray());
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json; charset=UTF-8");

        using var response = await server.Client.PostAsync("messages", content);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.EndsWith("\"text\":\"héllo\"}", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"id":"mine","text":"hi"}""")]
    [InlineData("""{"text":"hi","id":null}""")]
    public async Task Post_WithIdMember_400Unchanged(string json)
    {
        await using var server = await RocketServer.StartAsync();
        await server.PostAsync("""{"text":"existing"}""");
        var before = await server.GetStateAsync();

        using var response = await server.Client.PostAsync("messages", RocketServer.Json(json));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "id-is-server-owned");
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Theory]
    [InlineData("[1,2]", "array")]
    [InlineData("42", "number")]
    [InlineData("\"text\"", "string")]
    [InlineData("null", "null")]
    public async Task Post_NotAnObject_400Unchanged(string json, string kind)
    {
        await using var server = await RocketServer.StartAsync();
        var before = await server.GetStateAsync();

        using var response = await server.Client.PostAsync("messages", RocketServer.Json(json));

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "not-an-object");
        Assert.Equal($"The body must be a JSON object, not {kind}.", problem.GetProperty("detail").GetString());
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Theory]
    [InlineData("""{"text":""")]
    [InlineData("")]
    [InlineData("""{"text":"hi"} {}""")]
    [InlineData("""{"text":"hi",}""")]
    [InlineData("""{"text":"hi" /* comment */}""")]
    public async Task Post_MalformedJson_400WithDetail(string json)
    {
        await using var server = await RocketServer.StartAsync();
        var before = await server.GetStateAsync();

        using var response = await server.Client.PostAsync("messages", RocketServer.Json(json));

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "invalid-json");
        Assert.StartsWith("The body is not valid JSON: ", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Theory]
    [InlineData("""{"text":"a","text":"b"}""")]
    [InlineData("""{"text":"a","nested":{"x":1,"x":2}}""")]
    public async Task Post_DuplicateMemberNames_400Unchanged(string json)
    {
        await using var server = await RocketServer.StartAsync();
        var before = await server.GetStateAsync();

        using var response = await server.Client.PostAsync("messages", RocketServer.Json(json));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "invalid-json");
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Theory]
    [InlineData(new byte[] { (byte)'{', (byte)'"', (byte)'t', (byte)'"', (byte)':', (byte)'"', 0xFF, (byte)'"', (byte)'}' })]
    [InlineData(new byte[] { (byte)'{', (byte)'"', (byte)'t', (byte)'"', (byte)':', (byte)'"', 0xC3, (byte)'"', (byte)'}' })]
    [InlineData(new byte[] { (byte)'{', (byte)'"', (byte)'t', (byte)'"', (byte)':', (byte)'"', 0xED, 0xA0, 0x80, (byte)'"', (byte)'}' })]
    public async Task Post_InvalidUtf8_400Unchanged(byte[] body)
    {
        await using var server = await RocketServer.StartAsync();
        var before = await server.GetStateAsync();
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var response = await server.Client.PostAsync("messages", content);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "invalid-json");
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Theory]
    [InlineData("""{"text":"\ud800"}""")]
    [InlineData("""{"\ud800":"text"}""")] // in a member name JsonDocument throws InvalidOperationException, not JsonException
    public async Task Post_UnpairedSurrogateEscape_400Unchanged(string body)
    {
        await using var server = await RocketServer.StartAsync();
        var before = await server.GetStateAsync();

        using var response = await server.Client.PostAsync("messages", RocketServer.Json(body));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "invalid-json");
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Fact]
    public async Task Post_DepthAtDefaultLimit_201()
    {
        // The body's limit is what is tested: the collection is set to hold records as deep as the body may be.
        await using var server = await RocketServer.StartAsync(static o => o.Collection = static c => c.MaxRecordDepth = 64);

        // The object is depth 1, so 63 nested arrays reach 64, the default MaxDepth.
        using var response = await server.Client.PostAsync("messages", RocketServer.Json(Nested(63)));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task Post_DeeperThanDefaultLimit_400Unchanged()
    {
        await using var server = await RocketServer.StartAsync();
        var before = await server.GetStateAsync();

        using var response = await server.Client.PostAsync("messages", RocketServer.Json(Nested(64)));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "invalid-json");
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Fact]
    public async Task Post_DeeperThanConfiguredLimit_400()
    {
        await using var server = await RocketServer.StartAsync(static o => o.Http = static h => h.MaxDepth = 3);
        using (var ok = await server.Client.PostAsync("messages", RocketServer.Json(Nested(2))))
        {
            Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        }

        var before = await server.GetStateAsync();

        using var response = await server.Client.PostAsync("messages", RocketServer.Json(Nested(3)));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "invalid-json");
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Fact]
    public async Task Post_OverDefaultLimitWithContentLength_413Unchanged()
    {
        await using var server = await RocketServer.StartAsync();
        var before = await server.GetStateAsync();
        using var content = new ByteArrayContent(RecordOfSize((1024 * 1024) + 1));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var response = await server.Client.PostAsync("messages", content);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "body-too-large");
        Assert.Equal("The body is larger than 1048576 bytes, the limit.", problem.GetProperty("detail").GetString());
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Fact]
    public async Task Post_AtDefaultLimit_201()
    {
        await using var server = await RocketServer.StartAsync();
        using var content = new ByteArrayContent(RecordOfSize(1024 * 1024));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var response = await server.Client.PostAsync("messages", content);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task Post_OverLimitChunked_413Unchanged()
    {
        await using var server = await RocketServer.StartAsync(static o => o.Http = static h => h.MaxBodyBytes = 4096);
        var before = await server.GetStateAsync();
        using var content = new ChunkedContent(RecordOfSize(64 * 1024));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var response = await server.Client.PostAsync("messages", content);

        Assert.Null(content.Headers.ContentLength);
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "body-too-large");
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Fact]
    public async Task Post_UnderLimitChunked_201()
    {
        await using var server = await RocketServer.StartAsync(static o => o.Http = static h => h.MaxBodyBytes = 4096);
        using var content = new ChunkedContent(RecordOfSize(4096));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var response = await server.Client.PostAsync("messages", content);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("application/json-patch+json")]
    [InlineData("application/json; charset=latin1")]
    [InlineData("application/json; charset=utf-16")]
    [InlineData(null)]
    public async Task Post_WrongContentType_415Unchanged(string? contentType)
    {
        await using var server = await RocketServer.StartAsync();
        var before = await server.GetStateAsync();
        using var content = new ByteArrayContent("""{"text":"hi"}"""u8.ToArray());
        if (contentType is not null)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        using var response = await server.Client.PostAsync("messages", content);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
        Assert.Equal("The body must be application/json (UTF-8).", problem.GetProperty("detail").GetString());
        Assert.Equal(before, await server.GetStateAsync());
    }

    // ---- GET one ---------------------------------------------------------------------------------------------------

    [Fact]
    public async Task GetRecord_Exists_200WithETag()
    {
        await using var server = await RocketServer.StartAsync();
        var id = await server.PostAsync("""{"text":"hi"}""");

        using var response = await server.Client.GetAsync($"messages/{id}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($$"""{"id":"{{id}}","text":"hi"}""", await response.Content.ReadAsStringAsync());
        Assert.NotNull(response.Headers.ETag);
    }

    [Fact]
    public async Task GetRecord_Missing_404Problem()
    {
        await using var server = await RocketServer.StartAsync();

        using var response = await server.Client.GetAsync("messages/nope");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound, "not-found");
        Assert.Equal("Collection 'messages' has no record 'nope'.", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("{0}")]
    [InlineData("W/{0}")]
    [InlineData("\"other\", {0}")]
    [InlineData("*")]
    public async Task GetRecord_IfNoneMatchCurrent_304(string format)
    {
        await using var server = await RocketServer.StartAsync();
        var (id, etag) = await CreateAsync(server);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"messages/{id}");
        request.Headers.TryAddWithoutValidation("If-None-Match", string.Format(System.Globalization.CultureInfo.InvariantCulture, format, etag));

        using var response = await server.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
        Assert.Equal(etag, response.Headers.ETag?.Tag);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task GetRecord_IfNoneMatchStale_200()
    {
        await using var server = await RocketServer.StartAsync();
        var (id, _) = await CreateAsync(server);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"messages/{id}");
        request.Headers.TryAddWithoutValidation("If-None-Match", "\"stale\"");

        using var response = await server.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    // ---- PUT -------------------------------------------------------------------------------------------------------

    [Fact]
    public async Task Put_WithSameId_ReplacesWholeRecordNewETag()
    {
        await using var server = await RocketServer.StartAsync();
        var (id, etag) = await CreateAsync(server, """{"text":"old","extra":true}""");

        using var response = await server.Client.PutAsync($"messages/{id}", RocketServer.Json($$"""{"text":"new","id":"{{id}}"}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($$"""{"id":"{{id}}","text":"new"}""", await response.Content.ReadAsStringAsync());
        Assert.NotEqual(etag, response.Headers.ETag?.Tag);
        Assert.Equal($$$$"""{"messages":{"{{{{id}}}}":{"id":"{{{{id}}}}","text":"new"}}}""", (await server.GetStateAsync()).Body);
    }

    [Fact]
    public async Task Put_WithoutId_KeepsUrlId()
    {
        await using var server = await RocketServer.StartAsync();
        var (id, _) = await CreateAsync(server);

        using var response = await server.Client.PutAsync($"messages/{id}", RocketServer.Json("""{"text":"new"}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($$"""{"id":"{{id}}","text":"new"}""", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("""{"id":"other","text":"new"}""")]
    [InlineData("""{"id":42,"text":"new"}""")]
    [InlineData("""{"id":null,"text":"new"}""")]
    public async Task Put_DifferentId_409Unchanged(string json)
    {
        await using var server = await RocketServer.StartAsync();
        var (id, _) = await CreateAsync(server);
        var before = await server.GetStateAsync();

        using var response = await server.Client.PutAsync($"messages/{id}", RocketServer.Json(json));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Conflict, "id-is-server-owned");
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Fact]
    public async Task Put_MissingRecord_404Unchanged()
    {
        await using var server = await RocketServer.StartAsync();
        await CreateAsync(server);
        var before = await server.GetStateAsync();

        using var response = await server.Client.PutAsync("messages/nope", RocketServer.Json("""{"text":"new"}"""));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound, "not-found");
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Fact]
    public async Task Put_StaleIfMatch_412Unchanged()
    {
        await using var server = await RocketServer.StartAsync();
        var (id, etag) = await CreateAsync(server);
        using (var changed = await server.Client.PutAsync($"messages/{id}", RocketServer.Json("""{"text":"changed"}""")))
        {
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        }

        var before = await server.GetStateAsync();
        using var request = new HttpRequestMessage(HttpMethod.Put, $"messages/{id}") { Content = RocketServer.Json("""{"text":"mine"}""") };
        request.Headers.TryAddWithoutValidation("If-Match", etag);

        using var response = await server.Client.SendAsync(request);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.PreconditionFailed, "precondition-failed");
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Fact]
    public async Task Put_WeakIfMatch_412Unchanged()
    {
        await using var server = await RocketServer.StartAsync();
        var (id, etag) = await CreateAsync(server);
        var before = await server.GetStateAsync();
        using var request = new HttpRequestMessage(HttpMethod.Put, $"messages/{id}") { Content = RocketServer.Json("""{"text":"mine"}""") };
        // RFC 9110 section 13.1.1: If-Match uses the strong comparison, so a weak tag never matches.
        request.Headers.TryAddWithoutValidation("If-Match", "W/" + etag);

        using var response = await server.Client.SendAsync(request);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.PreconditionFailed, "precondition-failed");
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Theory]
    [InlineData("\"other\", {0}")]
    [InlineData("W/{0}, {0}")]
    [InlineData("*")]
    public async Task Put_IfMatchListNamingCurrentOrAny_200(string format)
    {
        await using var server = await RocketServer.StartAsync();
        var (id, etag) = await CreateAsync(server);
        using var request = new HttpRequestMessage(HttpMethod.Put, $"messages/{id}") { Content = RocketServer.Json("""{"text":"mine"}""") };
        request.Headers.TryAddWithoutValidation("If-Match", string.Format(CultureInfo.InvariantCulture, format, etag));

        using var response = await server.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($$"""{"id":"{{id}}","text":"mine"}""", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("\"other\", W/{0}")]
    [InlineData("not an entity tag")]
    public async Task Put_IfMatchNamingNoCurrentStrongTag_412Unchanged(string format)
    {
        await using var server = await RocketServer.StartAsync();
        var (id, etag) = await CreateAsync(server);
        var before = await server.GetStateAsync();
        using var request = new HttpRequestMessage(HttpMethod.Put, $"messages/{id}") { Content = RocketServer.Json("""{"text":"mine"}""") };
        request.Headers.TryAddWithoutValidation("If-Match", string.Format(CultureInfo.InvariantCulture, format, etag));

        using var response = await server.Client.SendAsync(request);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.PreconditionFailed, "precondition-failed");
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Fact]
    public async Task Put_CurrentIfMatch_200NewETag()
    {
        await using var server = await RocketServer.StartAsync();
        var (id, etag) = await CreateAsync(server);
        using var request = new HttpRequestMessage(HttpMethod.Put, $"messages/{id}") { Content = RocketServer.Json("""{"text":"mine"}""") };
        request.Headers.TryAddWithoutValidation("If-Match", etag);

        using var response = await server.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var newTag = response.Headers.ETag?.Tag;
        Assert.NotEqual(etag, newTag);
        using var get = await server.Client.GetAsync($"messages/{id}");
        Assert.Equal(newTag, get.Headers.ETag?.Tag);
        Assert.Equal($$"""{"id":"{{id}}","text":"mine"}""", await get.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Put_WrongContentType_415Unchanged()
    {
        await using var server = await RocketServer.StartAsync();
        var (id, _) = await CreateAsync(server);
        var before = await server.GetStateAsync();

        using var response = await server.Client.PutAsync($"messages/{id}", RocketServer.Json("""{"text":"new"}""", "text/plain"));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
        Assert.Equal(before, await server.GetStateAsync());
    }

    // ---- PATCH -----------------------------------------------------------------------------------------------------

    [Fact]
    public async Task Patch_Valid_200AppliedWithNewETag()
    {
        await using var server = await RocketServer.StartAsync();
        var (id, etag) = await CreateAsync(server, """{"text":"old","tags":["a"]}""");

        using var response = await PatchAsync(server, id, """[{"op":"replace","path":"/text","value":"new"},{"op":"add","path":"/tags/-","value":"b"},{"op":"test","path":"/id","value":"ID"}]""".Replace("ID", id, StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($$"""{"id":"{{id}}","text":"new","tags":["a","b"]}""", await response.Content.ReadAsStringAsync());
        Assert.NotEqual(etag, response.Headers.ETag?.Tag);
    }

    [Fact]
    public async Task Patch_FailingTest_409WithClientOperationIndexUnchanged()
    {
        await using var server = await RocketServer.StartAsync();
        var (id, _) = await CreateAsync(server);
        var before = await server.GetStateAsync();

        using var response = await PatchAsync(server, id, """[{"op":"replace","path":"/text","value":"changed"},{"op":"test","path":"/text","value":"nope"}]""");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Conflict, "test-failed", operationIndex: 1);
        Assert.StartsWith("Operation 1 ", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Fact]
    public async Task Patch_PathNotFound_409Unchanged()
    {
        await using var server = await RocketServer.StartAsync();
        var (id, _) = await CreateAsync(server);
        var before = await server.GetStateAsync();

        using var response = await PatchAsync(server, id, """[{"op":"remove","path":"/missing"}]""");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Conflict, "path-not-found", operationIndex: 0);
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Fact]
    public async Task Patch_InvalidPointer_400WithOperationIndexUnchanged()
    {
        await using var server = await RocketServer.StartAsync();
        var (id, _) = await CreateAsync(server);
        var before = await server.GetStateAsync();

        using var response = await PatchAsync(server, id, """[{"op":"replace","path":"/text","value":"x"},{"op":"add","path":"text","value":"y"}]""");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "invalid-pointer", operationIndex: 1);
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Fact]
    public async Task Patch_InvalidOperation_400WithOperationIndexUnchanged()
    {
        await using var server = await RocketServer.StartAsync();
        var (id, _) = await CreateAsync(server);
        var before = await server.GetStateAsync();

        using var response = await PatchAsync(server, id, """[{"op":"update","path":"/text","value":"x"}]""");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "invalid-operation", operationIndex: 0);
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Theory]
    [InlineData("""{"op":"add","path":"/text","value":"x"}""")]
    [InlineData("""[{"op":"add","path":"/text","value":"x"}""")]
    [InlineData("")]
    public async Task Patch_Malformed_400OperationIndexMinusOneUnchanged(string json)
    {
        await using var server = await RocketServer.StartAsync();
        var (id, _) = await CreateAsync(server);
        var before = await server.GetStateAsync();

        using var response = await PatchAsync(server, id, json);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "invalid-patch", operationIndex: -1);
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Theory]
    [InlineData("""[{"op":"replace","path":"/id","value":"other"}]""")]
    [InlineData("""[{"op":"remove","path":"/id"}]""")]
    [InlineData("""[{"op":"move","from":"/id","path":"/old"}]""")]
    [InlineData("""[{"op":"replace","path":"","value":{"text":"no id"}}]""")]
    [InlineData("""[{"op":"replace","path":"","value":[1]}]""")]
    public async Task Patch_ChangesId_409Unchanged(string json)
    {
        await using var server = await RocketServer.StartAsync();
        var (id, _) = await CreateAsync(server);
        var before = await server.GetStateAsync();

        using var response = await PatchAsync(server, id, json);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Conflict, "id-is-server-owned");
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Fact]
    public async Task Patch_ReplacesIdWithSameValue_200()
    {
        await using var server = await RocketServer.StartAsync();
        var (id, _) = await CreateAsync(server);

        using var response = await PatchAsync(server, id, $$"""[{"op":"replace","path":"/id","value":"{{id}}"},{"op":"replace","path":"/text","value":"x"}]""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($$"""{"id":"{{id}}","text":"x"}""", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/merge-patch+json")]
    [InlineData("application/json-patch+json; charset=latin1")]
    public async Task Patch_WrongContentType_415Unchanged(string contentType)
    {
        await using var server = await RocketServer.StartAsync();
        var (id, _) = await CreateAsync(server);
        var before = await server.GetStateAsync();

        using var response = await PatchAsync(server, id, """[{"op":"replace","path":"/text","value":"x"}]""", contentType);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
        Assert.Equal("The body must be application/json-patch+json (UTF-8).", problem.GetProperty("detail").GetString());
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Fact]
    public async Task Patch_MissingRecord_404Unchanged()
    {
        await using var server = await RocketServer.StartAsync();
        await CreateAsync(server);
        var before = await server.GetStateAsync();

        using var response = await PatchAsync(server, "nope", """[{"op":"replace","path":"/text","value":"x"}]""");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound, "not-found");
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Fact]
    public async Task Patch_OverLimit_413Unchanged()
    {
        await using var server = await RocketServer.StartAsync(static o => o.Http = static h => h.MaxBodyBytes = 256);
        var (id, _) = await CreateAsync(server);
        var before = await server.GetStateAsync();

        using var response = await PatchAsync(server, id, $$"""[{"op":"replace","path":"/text","value":"{{new string('x', 300)}}"}]""");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "body-too-large");
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Fact]
    public async Task Patch_StaleIfMatch_412Unchanged()
    {
        await using var server = await RocketServer.StartAsync();
        var (id, etag) = await CreateAsync(server);
        using (var changed = await PatchAsync(server, id, """[{"op":"replace","path":"/text","value":"changed"}]"""))
        {
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        }

        var before = await server.GetStateAsync();

        using var response = await PatchAsync(server, id, """[{"op":"replace","path":"/text","value":"mine"}]""", ifMatch: etag);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.PreconditionFailed, "precondition-failed");
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Fact]
    public async Task Patch_CurrentIfMatch_200()
    {
        await using var server = await RocketServer.StartAsync();
        var (id, etag) = await CreateAsync(server);

        using var response = await PatchAsync(server, id, """[{"op":"replace","path":"/text","value":"mine"}]""", ifMatch: etag);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($$"""{"id":"{{id}}","text":"mine"}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Patch_RecordChangedBetweenIfMatchAndCommit_412OtherWriteKept()
    {
        // A store whose reads let another writer in right after them: the If-Match check sees the record as it was, and
        // the commit must find it changed.
        WritesAfterReadStore? store = null;
        await using var server = await RocketServer.StartAsync(o => o.Services = services => services.AddSingleton<IRecordStore>(p =>
            store = new WritesAfterReadStore(new LiveCollectionRecordStore(p.GetRequiredService<CollectionRegistry>()), p.GetRequiredService<CollectionRegistry>())));
        var (id, etag) = await CreateAsync(server);
        store!.ChangeAfterNextRead = """{"text":"theirs"}""";

        using var response = await PatchAsync(server, id, """[{"op":"replace","path":"/text","value":"mine"}]""", ifMatch: etag);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.PreconditionFailed, "precondition-failed");
        using var get = await server.Client.GetAsync($"messages/{id}");
        Assert.Equal($$"""{"id":"{{id}}","text":"theirs"}""", await get.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Patch_CurrentIfMatchFailingTest_409WithClientOperationIndexUnchanged()
    {
        await using var server = await RocketServer.StartAsync();
        var (id, etag) = await CreateAsync(server);
        var before = await server.GetStateAsync();

        // Rocket checks If-Match with an operation of its own in front of the client's: the index must not shift.
        using var response = await PatchAsync(server, id, """[{"op":"replace","path":"/text","value":"x"},{"op":"test","path":"/text","value":"nope"}]""", ifMatch: etag);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Conflict, "test-failed", operationIndex: 1);
        Assert.StartsWith("Operation 1 ", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Fact]
    public async Task Patch_CurrentIfMatchFirstOperationFails_409OperationIndexZeroUnchanged()
    {
        await using var server = await RocketServer.StartAsync();
        var (id, etag) = await CreateAsync(server);
        var before = await server.GetStateAsync();

        using var response = await PatchAsync(server, id, """[{"op":"remove","path":"/missing"}]""", ifMatch: etag);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Conflict, "path-not-found", operationIndex: 0);
        Assert.StartsWith("Operation 0 ", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Fact]
    public async Task Patch_CurrentIfMatchChangesId_409Unchanged()
    {
        await using var server = await RocketServer.StartAsync();
        var (id, etag) = await CreateAsync(server);
        var before = await server.GetStateAsync();

        using var response = await PatchAsync(server, id, """[{"op":"remove","path":"/id"}]""", ifMatch: etag);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Conflict, "id-is-server-owned");
        Assert.Equal(before, await server.GetStateAsync());
    }

    // ---- DELETE ----------------------------------------------------------------------------------------------------

    [Fact]
    public async Task Delete_Exists_204Then404()
    {
        await using var server = await RocketServer.StartAsync();
        var (id, _) = await CreateAsync(server);

        using var response = await server.Client.DeleteAsync($"messages/{id}");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        using var get = await server.Client.GetAsync($"messages/{id}");
        await ProblemAssert.IsProblemAsync(get, HttpStatusCode.NotFound, "not-found");
        var before = await server.GetStateAsync();
        Assert.Equal("""{"messages":{}}""", before.Body);
        using var again = await server.Client.DeleteAsync($"messages/{id}");
        await ProblemAssert.IsProblemAsync(again, HttpStatusCode.NotFound, "not-found");
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Fact]
    public async Task Delete_StaleIfMatch_412Unchanged()
    {
        await using var server = await RocketServer.StartAsync();
        var (id, etag) = await CreateAsync(server);
        using (var changed = await server.Client.PutAsync($"messages/{id}", RocketServer.Json("""{"text":"changed"}""")))
        {
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        }

        var before = await server.GetStateAsync();
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"messages/{id}");
        request.Headers.TryAddWithoutValidation("If-Match", etag);

        using var response = await server.Client.SendAsync(request);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.PreconditionFailed, "precondition-failed");
        Assert.Equal(before, await server.GetStateAsync());
    }

    [Fact]
    public async Task Delete_CurrentIfMatch_204()
    {
        await using var server = await RocketServer.StartAsync();
        var (id, etag) = await CreateAsync(server);
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"messages/{id}");
        request.Headers.TryAddWithoutValidation("If-Match", etag);

        using var response = await server.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("""{"messages":{}}""", (await server.GetStateAsync()).Body);
    }

    // ---- helpers ---------------------------------------------------------------------------------------------------

    private static async Task<(string Id, string ETag)> CreateAsync(RocketServer server, string json = """{"text":"hi"}""")
    {
        using var response = await server.Client.PostAsync("messages", RocketServer.Json(json));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = JsonElement.Parse(await response.Content.ReadAsStringAsync()).GetProperty("id").GetString()!;
        return (id, response.Headers.ETag!.Tag);
    }

    private static async Task<HttpResponseMessage> PatchAsync(RocketServer server, string id, string patch, string contentType = "application/json-patch+json", string? ifMatch = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, $"messages/{id}");
        request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(patch));
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return await server.Client.SendAsync(request);
    }

    private static string Nested(int arrays) => "{\"a\":" + new string('[', arrays) + new string(']', arrays) + "}";

    // A JSON object of exactly `size` bytes: {"text":"xxx…"}.
    private static byte[] RecordOfSize(int size)
    {
        var bytes = new byte[size];
        "{\"text\":\""u8.CopyTo(bytes);
        bytes.AsSpan(9, size - 11).Fill((byte)'x');
        "\"}"u8.CopyTo(bytes.AsSpan(size - 2));
        return bytes;
    }

    /// <summary>Content of unknown length, so HttpClient sends it with chunked transfer encoding.</summary>
    private sealed class ChunkedContent(byte[] bytes) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var at = 0; at < bytes.Length; at += 1024)
            {
                await stream.WriteAsync(bytes.AsMemory(at, Math.Min(1024, bytes.Length - at)));
                await stream.FlushAsync();
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}

/// <summary>The in-memory store, where another writer replaces a record right after the next read of it.</summary>
internal sealed class WritesAfterReadStore(IRecordStore inner, CollectionRegistry registry) : IRecordStore
{
    public string? ChangeAfterNextRead { get; set; }

    public async ValueTask<ReadOnlyMemory<byte>?> GetAsync(string collection, string id, CancellationToken cancellationToken = default)
    {
        var record = await inner.GetAsync(collection, id, cancellationToken);
        if (record is not null && ChangeAfterNextRead is { } body)
        {
            ChangeAfterNextRead = null;
            registry.GetCollection(collection).Update(id, Encoding.UTF8.GetBytes(body.Insert(1, $"\"id\":\"{id}\",")));
        }

        return record;
    }

    public ValueTask<StoredRecord> CreateAsync(string collection, string id, ReadOnlyMemory<byte> record, CancellationToken cancellationToken = default) =>
        inner.CreateAsync(collection, id, record, cancellationToken);

    public ValueTask<StoredRecord> UpdateAsync(string collection, string id, ReadOnlyMemory<byte> record, ReadOnlyMemory<byte>? expected, CancellationToken cancellationToken = default) =>
        inner.UpdateAsync(collection, id, record, expected, cancellationToken);

    public ValueTask<StoredRecord> PatchAsync(string collection, string id, JsonPatchDocument patch, CancellationToken cancellationToken = default) =>
        inner.PatchAsync(collection, id, patch, cancellationToken);

    public ValueTask<Cursor> DeleteAsync(string collection, string id, ReadOnlyMemory<byte>? expected, CancellationToken cancellationToken = default) =>
        inner.DeleteAsync(collection, id, expected, cancellationToken);
}
