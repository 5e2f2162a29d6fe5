using System;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text.Json;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Rocket.AspNetCore.Tests;

/// <summary>
/// What an app's OpenAPI document says of a mapped collection, and Rocket's errors going through the app's
/// <c>IProblemDetailsService</c>.
/// </summary>
public sealed class OpenApiTests : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _client;

    public OpenApiTests()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddRocket().AddCollection("messages").AddSseTransport();
        builder.Services.AddOpenApi();
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = c => c.ProblemDetails.Extensions["node"] = "test-node");
        _app = builder.Build();
        _app.MapOpenApi();
        _app.MapRocketCollection("messages");
        _app.StartAsync().GetAwaiter().GetResult();
        _client = new HttpClient { BaseAddress = new Uri(_app.Urls.Single() + "/") };
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
    }

    [Theory]
    [InlineData("/messages", "get", "200 400 406 503")]
    [InlineData("/messages", "post", "201 400 409 413 415 503")]
    [InlineData("/messages/{id}", "get", "200 304 404")]
    [InlineData("/messages/{id}", "put", "200 400 404 409 412 413 415 503")]
    [InlineData("/messages/{id}", "patch", "200 400 404 409 412 413 415 503")]
    [InlineData("/messages/{id}", "delete", "204 404 412 503")]
    public async Task EveryEndpoint_IsInTheDocument_WithItsAnswers(string path, string method, string statuses)
    {
        using var document = JsonDocument.Parse(await _client.GetStringAsync("openapi/v1.json"));
        var operation = document.RootElement.GetProperty("paths").GetProperty(path).GetProperty(method);
        var responses = operation.GetProperty("responses").EnumerateObject().Select(static r => r.Name).Order().ToArray();
        Assert.Equal(statuses.Split(' '), responses);
        foreach (var response in operation.GetProperty("responses").EnumerateObject().Where(static r => r.Name[0] is '4' or '5'))
        {
            Assert.True(response.Value.GetProperty("content").TryGetProperty("application/problem+json", out _), $"{method} {path} {response.Name} is not a problem");
        }
    }

    [Fact]
    public async Task RequestBodies_AreDeclaredWithTheirMediaTypes()
    {
        using var document = JsonDocument.Parse(await _client.GetStringAsync("openapi/v1.json"));
        var paths = document.RootElement.GetProperty("paths");
        Assert.True(paths.GetProperty("/messages").GetProperty("post").GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out _));
        Assert.True(paths.GetProperty("/messages/{id}").GetProperty("patch").GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json-patch+json", out _));
        Assert.True(paths.GetProperty("/messages").GetProperty("get").GetProperty("responses").GetProperty("200").GetProperty("content").TryGetProperty("text/event-stream", out _));
    }

    [Fact]
    public async Task RocketsErrors_GoThroughTheAppsProblemDetailsService()
    {
        using var response = await _client.GetAsync("messages/nope");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.StartsWith("application/problem+json", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("urn:rocket:problem:not-found", problem.RootElement.GetProperty("type").GetString());
        Assert.Equal(404, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Equal("test-node", problem.RootElement.GetProperty("node").GetString());

        using var patch = new StringContent("""[{"op":"nope"}]""", System.Text.Encoding.UTF8, "application/json-patch+json");
        using var created = await _client.PostAsync("messages", new StringContent("""{"text":"x"}""", System.Text.Encoding.UTF8, "application/json"));
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();
        using var failed = await _client.PatchAsync($"messages/{id}", patch);
        using var failure = JsonDocument.Parse(await failed.Content.ReadAsStringAsync());
        Assert.Equal(0, failure.RootElement.GetProperty("operationIndex").GetInt32());
        Assert.Equal("test-node", failure.RootElement.GetProperty("node").GetString());
    }
}
