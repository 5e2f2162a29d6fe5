using System;
using System.Linq;
using System.Net.Http;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Rocket.AspNetCore.Tests;

/// <summary>
/// Cross-origin reads of the document and the SSE stream follow CORS: a browser may read a response from another origin
/// only when it carries <c>Access-Control-Allow-Origin</c> for that origin (and, with cookies,
/// <c>Access-Control-Allow-Credentials: true</c>). Without a policy Rocket sends neither; with one on the route group,
/// only the named origin gets them.
/// </summary>
public sealed class CorsTests : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _client;

    public CorsTests()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddCors(o => o.AddPolicy("partner", p => p.WithOrigins("http://partner.example").AllowCredentials()));
        builder.Services.AddRocket().AddCollection("open").AddCollection("shared").AddSseTransport();
        _app = builder.Build();
        _app.UseCors();
        _app.MapRocketCollection("open");
        _app.MapRocketCollection("shared").RequireCors("partner");
        _app.StartAsync().GetAwaiter().GetResult();
        _client = new HttpClient { BaseAddress = new Uri(_app.Urls.Single() + "/"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
    }

    private async Task<(string? Origin, string? Credentials)> CorsHeadersAsync(string path, string origin, bool stream)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Origin", origin);
        if (stream)
        {
            request.Headers.Accept.ParseAdd("text/event-stream");
        }

        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        return (
            response.Headers.TryGetValues("Access-Control-Allow-Origin", out var o) ? o.Single() : null,
            response.Headers.TryGetValues("Access-Control-Allow-Credentials", out var c) ? c.Single() : null);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task NoPolicy_NoCrossOriginRead(bool stream)
    {
        Assert.Equal((null, null), await CorsHeadersAsync("open", "http://evil.example", stream));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Policy_OnlyTheNamedOriginMayRead_WithCredentials(bool stream)
    {
        Assert.Equal(("http://partner.example", "true"), await CorsHeadersAsync("shared", "http://partner.example", stream));
        Assert.Equal((null, null), await CorsHeadersAsync("shared", "http://evil.example", stream));
    }
}
