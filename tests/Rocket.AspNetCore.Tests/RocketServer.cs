using System;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Rocket.AspNetCore;
using Rocket.Live;

namespace Rocket.AspNetCore.Tests;

/// <summary>What a test may change about the app before it starts.</summary>
internal sealed class RocketServerOptions
{
    /// <summary>Registers the SSE transport; default true.</summary>
    public bool Sse { get; set; } = true;

    /// <summary>Listens with HTTP/2 only (h2c, prior knowledge) instead of the default HTTP/1.1.</summary>
    public bool Http2Only { get; set; }

    /// <summary>Changes the <c>messages</c> collection's options.</summary>
    public Action<LiveCollectionOptions>? Collection { get; set; }

    /// <summary>Changes the SSE transport's options.</summary>
    public Action<Rocket.Transports.Sse.SseTransportOptions>? SseTransport { get; set; }

    /// <summary>Changes the HTTP endpoints' options.</summary>
    public Action<RocketHttpOptions>? Http { get; set; }

    /// <summary>Adds or replaces services of the app (an <see cref="IRecordStore"/>, say).</summary>
    public Action<IServiceCollection>? Services { get; set; }
}

/// <summary>
/// A real Kestrel server on 127.0.0.1 (port 0) serving the live collection <c>messages</c> with the REST scaffold and,
/// unless turned off, the SSE transport; its log entries are recorded. Dispose stops it.
/// </summary>
internal sealed class RocketServer : IAsyncDisposable
{
    public const string Collection = "messages";

    private RocketServer(WebApplication app, LogRecorder logs, Uri baseAddress, Version version)
    {
        App = app;
        Logs = logs;
        BaseAddress = baseAddress;
        Client = CreateClient(version);
    }

    public WebApplication App { get; }

    public LogRecorder Logs { get; }

    public Uri BaseAddress { get; }

    /// <summary>A client whose base address is the server's; requests to <c>messages</c> name the collection.</summary>
    public HttpClient Client { get; }

    public LiveCollection Live => App.Services.GetRequiredService<CollectionRegistry>().GetCollection(Collection);

    public static async Task<RocketServer> StartAsync(Action<RocketServerOptions>? configure = null)
    {
        var options = new RocketServerOptions();
        configure?.Invoke(options);

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            // No file watchers: dozens of short-lived apps would each hold inotify handles on the content root.
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = "Production",
        });
        if (options.Http2Only)
        {
            builder.WebHost.ConfigureKestrel(static kestrel =>
                kestrel.Listen(IPAddress.Loopback, 0, static listen => listen.Protocols = HttpProtocols.Http2));
        }
        else
        {
            builder.WebHost.UseUrls("http://127.0.0.1:0");
        }

        var logs = new LogRecorder();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddProvider(logs);

        var rocket = builder.Services.AddRocket().AddCollection(Collection, options.Collection);
        if (options.Sse)
        {
            // A fixed retry: (no per-stream jitter) so tests can compare a stream's first bytes exactly; a test of the
            // jitter sets it again.
            rocket.AddSseTransport(o =>
            {
                o.RetryJitter = 0;
                options.SseTransport?.Invoke(o);
            });
        }

        if (options.Http is not null)
        {
            builder.Services.Configure(options.Http);
        }

        options.Services?.Invoke(builder.Services);

        var app = builder.Build();
        app.MapRocketCollection(Collection);
        await app.StartAsync();
        var address = new Uri(app.Urls.Single().Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/");
        return new RocketServer(app, logs, address, options.Http2Only ? HttpVersion.Version20 : HttpVersion.Version11);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }

    /// <summary>A new client to this server (its own connections), speaking <paramref name="version"/> exactly.</summary>
    public HttpClient CreateClient(Version version) => new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(1) })
    {
        BaseAddress = BaseAddress,
        DefaultRequestVersion = version,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>Creates a record through the scaffold and returns its id.</summary>
    public async Task<string> PostAsync(string json)
    {
        using var response = await Client.PostAsync(Collection, Json(json));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>The keyed document and its cursor: what a refused request must leave as it was.</summary>
    public async Task<(string Body, string Cursor)> GetStateAsync()
    {
        using var response = await Client.GetAsync(Collection + "?form=keyed");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadAsStringAsync(), response.Headers.GetValues(RocketHeaders.LastEventId).Single());
    }

    /// <summary>Opens the collection's event stream (response headers read, body not yet).</summary>
    public async Task<HttpResponseMessage> OpenStreamAsync(string? lastEventIdHeader = null, string? query = null, HttpClient? client = null)
    {
        client ??= Client;
        // A hand-made request does not take the client's default version: set it, or HTTP/2-only servers answer 400.
        using var request = new HttpRequestMessage(HttpMethod.Get, Collection + query)
        {
            Version = client.DefaultRequestVersion,
            VersionPolicy = client.DefaultVersionPolicy,
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventIdHeader is not null)
        {
            request.Headers.TryAddWithoutValidation(RocketHeaders.LastEventId, lastEventIdHeader);
        }

        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            Assert.Fail($"{response.StatusCode} {response.Version}: {await response.Content.ReadAsStringAsync()} {string.Join("; ", Logs.Entries.Select(static e => e.ToString()))}");
        }
        return response;
    }

    public static StringContent Json(string json, string mediaType = "application/json") =>
        new(json, Encoding.UTF8, new MediaTypeHeaderValue(mediaType));
}
