using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Threading.Tasks;
using Rocket.AspNetCore;

namespace Rocket.AspNetCore.Tests;

/// <summary><c>GET /messages</c> as a document: its forms, its cursor, and content negotiation.</summary>
public sealed class DocumentGetTests
{
    [Fact]
    public async Task Get_Default_ListFormInInsertionOrder()
    {
        await using var server = await RocketServer.StartAsync();
        var first = await server.PostAsync("""{"text":"one"}""");
        var second = await server.PostAsync("""{"text":"two"}""");
        var third = await server.PostAsync("""{"text":"three"}""");
        // An update keeps a record's place in the list.
        using (var put = await server.Client.PutAsync($"messages/{first}", RocketServer.Json("""{"text":"uno"}""")))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        using var response = await server.Client.GetAsync("messages");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal(
            $$"""{"messages":[{"id":"{{first}}","text":"uno"},{"id":"{{second}}","text":"two"},{"id":"{{third}}","text":"three"}]}""",
            await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Get_Empty_EmptyList()
    {
        await using var server = await RocketServer.StartAsync();

        using var response = await server.Client.GetAsync("messages");

        Assert.Equal("""{"messages":[]}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Get_FormKeyed_KeyedByIdInInsertionOrder()
    {
        await using var server = await RocketServer.StartAsync();
        var first = await server.PostAsync("""{"text":"one"}""");
        var second = await server.PostAsync("""{"text":"two"}""");

        using var response = await server.Client.GetAsync("messages?form=keyed");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(
            $$$$"""{"messages":{"{{{{first}}}}":{"id":"{{{{first}}}}","text":"one"},"{{{{second}}}}":{"id":"{{{{second}}}}","text":"two"}}}""",
            await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Get_FormList_SameAsDefault()
    {
        await using var server = await RocketServer.StartAsync();
        var id = await server.PostAsync("""{"text":"one"}""");

        using var response = await server.Client.GetAsync("messages?form=list");

        Assert.Equal($$"""{"messages":[{"id":"{{id}}","text":"one"}]}""", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("?form=bogus")]
    [InlineData("?form=")]
    [InlineData("?form=keyed&form=list")]
    public async Task Get_FormBogus_400Problem(string query)
    {
        await using var server = await RocketServer.StartAsync();

        using var response = await server.Client.GetAsync("messages" + query);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "invalid-form");
    }

    [Fact]
    public async Task Get_LastEventIdHeader_IsCursorOfStateShown()
    {
        await using var server = await RocketServer.StartAsync();
        using var empty = await server.Client.GetAsync("messages");
        var emptyCursor = empty.Headers.GetValues(RocketHeaders.LastEventId).Single();
        await server.PostAsync("""{"text":"one"}""");
        await server.PostAsync("""{"text":"two"}""");

        using var response = await server.Client.GetAsync("messages");

        var cursor = response.Headers.GetValues(RocketHeaders.LastEventId).Single();
        Assert.Matches("^[0-9a-f]{8}\\.[0-9]+$", cursor);
        Assert.Equal(server.Live.Cursor.ToString(), cursor);
        Assert.Equal(emptyCursor[..9] + "2", cursor);
        Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task GetThenSubscribe_WithDocumentCursor_NothingReplayedNextChangeArrives()
    {
        await using var server = await RocketServer.StartAsync();
        await server.PostAsync("""{"text":"before"}""");
        using var document = await server.Client.GetAsync("messages");
        var cursor = document.Headers.GetValues(RocketHeaders.LastEventId).Single();

        using var stream = await server.OpenStreamAsync(lastEventIdHeader: cursor);
        using var reader = new SseReader(await stream.Content.ReadAsStreamAsync());
        Assert.Equal("retry: 3000\n: rocket\n", await reader.ReadTextAsync("retry: 3000\n: rocket\n".Length));
        var id = await server.PostAsync("""{"text":"after"}""");

        var frame = await reader.ReadEventAsync();

        var next = cursor[..9] + (SseReader.SequenceOf(cursor) + 1);
        Assert.Equal(
            $$$"""
            event: patch
            id: {{{next}}}
            data: [{"op":"add","path":"/messages/{{{id}}}","value":{"id":"{{{id}}}","text":"after"}}]


            """.ReplaceLineEndings("\n"),
            frame);
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("*/*")]
    [InlineData("application/*")]
    [InlineData(null)]
    [InlineData("text/html, application/json;q=0.5")]
    public async Task Get_AcceptJsonOrAnyOrNone_Json(string? accept)
    {
        await using var server = await RocketServer.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "messages");
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        using var response = await server.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal("""{"messages":[]}""", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("text/html")]
    [InlineData("application/json;q=0")]
    public async Task Get_AcceptNothingServed_406Problem(string accept)
    {
        await using var server = await RocketServer.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "messages");
        request.Headers.TryAddWithoutValidation("Accept", accept);

        using var response = await server.Client.SendAsync(request);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotAcceptable, "not-acceptable");
        Assert.Contains("application/json, text/event-stream", problem.GetProperty("detail").GetString(), System.StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_AcceptEventStreamWithoutSseTransport_406Problem()
    {
        await using var server = await RocketServer.StartAsync(static o => o.Sse = false);
        using var request = new HttpRequestMessage(HttpMethod.Get, "messages");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));

        using var response = await server.Client.SendAsync(request);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotAcceptable, "not-acceptable");
        Assert.DoesNotContain("text/event-stream", problem.GetProperty("detail").GetString(), System.StringComparison.Ordinal);
    }
}
