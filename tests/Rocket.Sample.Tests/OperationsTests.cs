using System;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text.Json;
using System.Threading.Tasks;
using Rocket.Sample;

namespace Rocket.Sample.Tests;

/// <summary>What an operator of the sample gets: /health and the OpenAPI document.</summary>
public sealed class OperationsTests
{
    [Fact]
    public async Task Health_IsHealthy_OpenApi_ListsTheMessagesCollection()
    {
        await using var app = SampleApp.Create(["--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning"]);
        await app.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.Single() + "/"), Timeout = TimeSpan.FromSeconds(30) };

        using var health = await client.GetAsync("health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("Healthy", await health.Content.ReadAsStringAsync());

        using var document = JsonDocument.Parse(await client.GetStringAsync("openapi/v1.json"));
        var messages = document.RootElement.GetProperty("paths").GetProperty("/messages");
        Assert.True(messages.TryGetProperty("get", out _));
        Assert.True(messages.TryGetProperty("post", out _));
        await app.StopAsync();
    }
}
