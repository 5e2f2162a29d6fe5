using System;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Rocket.Sample;

namespace Rocket.Sample.Tests;

/// <summary>
/// The sample's development-only sign-in and its guarded families: rooms for any signed-in user, notes for their owner
/// only, /messages public; anonymous 401, another user 403, on GET, writes and the SSE stream.
/// </summary>
public sealed class SignInTests : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Uri _base;

    public SignInTests()
    {
        _app = SampleApp.Create(["--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning"]);
        _app.StartAsync().GetAwaiter().GetResult();
        _base = new Uri(_app.Urls.Single() + "/");
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private HttpClient Client() => new(new HttpClientHandler { UseCookies = true, CookieContainer = new CookieContainer() }) { BaseAddress = _base, Timeout = TimeSpan.FromSeconds(30) };

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<HttpStatusCode> StreamStatusAsync(HttpClient client, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        return response.StatusCode;
    }

    [Fact]
    public async Task Anonymous_401_OtherUser_403_Owner_Served_MessagesStayPublic()
    {
        using var anonymous = Client();
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("messages")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("users/bob/notes")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("rooms/lobby/messages")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, await StreamStatusAsync(anonymous, "users/bob/notes"));

        using var alice = Client();
        Assert.Equal(HttpStatusCode.OK, (await alice.PostAsync("login", Json("""{"user":"alice"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await alice.GetAsync("users/bob/notes")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await alice.PostAsync("users/bob/notes", Json("""{"text":"forged"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, await StreamStatusAsync(alice, "users/bob/notes"));
        Assert.Equal(HttpStatusCode.Created, (await alice.PostAsync("rooms/lobby/messages", Json("""{"text":"hello"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, await StreamStatusAsync(alice, "rooms/lobby/messages"));

        using var bob = Client();
        await bob.PostAsync("login", Json("""{"user":"bob"}"""));
        Assert.Equal(HttpStatusCode.Created, (await bob.PostAsync("users/bob/notes", Json("""{"text":"mine"}"""))).StatusCode);
        Assert.Contains("mine", await bob.GetStringAsync("users/bob/notes"), StringComparison.Ordinal);
        Assert.Contains("hello", await bob.GetStringAsync("rooms/lobby/messages"), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.NoContent, (await bob.PostAsync("logout", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await bob.GetAsync("users/bob/notes")).StatusCode);
    }

    [Theory]
    [InlineData("""{"user":""}""")]
    [InlineData("""{"user":"a/b"}""")]
    [InlineData("""{"name":"bob"}""")]
    [InlineData("""not json""")]
    public async Task Login_WithABadName_400(string body)
    {
        using var client = Client();
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("login", Json(body))).StatusCode);
    }
}
