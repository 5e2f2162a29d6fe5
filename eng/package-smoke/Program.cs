// A new app on Rocket's packages: a server with every transport, and the .NET client following one change end to end
// over SSE and over WebSocket. Exits 0 when both clients saw the record, 1 otherwise (within 60 s).
using System.Net.Http.Json;
using Rocket;
using Rocket.Client;
using Rocket.Client.SignalR;
using Rocket.Postgres;
using Rocket.Redis;

using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
var builder = WebApplication.CreateSlimBuilder(args);
builder.WebHost.UseUrls("http://127.0.0.1:0");
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddRocket()
    .AddCollection("messages")
    .AddSseTransport()
    .AddWebSocketTransport()
    .AddSignalRTransport();
builder.Services.AddHealthChecks().AddRocket();
var app = builder.Build();
app.UseWebSockets();
app.MapRocketCollection("messages");
app.MapRocketHub();
await app.StartAsync(timeout.Token);
var collection = new Uri(app.Urls.First() + "/messages");

// Types of the packages this app does not run, so a package that is missing or broken fails the build.
Console.WriteLine($"packages: {typeof(SignalRConnector).Assembly.GetName().Name}, {typeof(RocketRedisBuilderExtensions).Assembly.GetName().Name}, {typeof(RocketPostgresBuilderExtensions).Assembly.GetName().Name}");

await using var sse = new LiveCollectionClient(collection);
await using var webSocket = new LiveCollectionClient(collection, o => o.Transport = new WebSocketConnector());
await sse.StartAsync(timeout.Token);
await webSocket.StartAsync(timeout.Token);

using var http = new HttpClient();
using var created = await http.PostAsJsonAsync(collection, new { text = "hello from the packages" }, timeout.Token);
created.EnsureSuccessStatusCode();

foreach (var (name, client) in new[] { ("sse", sse), ("websocket", webSocket) })
{
    // The copy changes on the client's own reader; this waits for it, up to the overall timeout.
    while (!client.GetDocumentJson(indented: false).Contains("hello from the packages", StringComparison.Ordinal))
    {
        if (timeout.IsCancellationRequested)
        {
            Console.Error.WriteLine($"{name}: the record never arrived (state {client.State})");
            return 1;
        }

        await Task.Delay(20, CancellationToken.None);
    }

    // Typed access, and the JSON Patch package the client brings on its own.
    var text = client.GetRecords<Message>().Values.Single().Text;
    Console.WriteLine($"{name}: {client.Cursor} holds the record ({text}; {typeof(Rocket.JsonPatch.JsonPatchDocument).Assembly.GetName().Name})");
}

await app.StopAsync(CancellationToken.None);
Console.WriteLine("package smoke test passed");
return 0;

internal sealed record Message(string Text);
