using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Net.Http;
using System.Text;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Rocket.AspNetCore;
using Rocket.Live;

namespace Rocket.Fuzz.Tests;

/// <summary>
/// A real Kestrel server on 127.0.0.1 (port 0) serving the collection <c>messages</c> with the REST scaffold and SSE,
/// small body and record limits (so random input reaches them), and a record of everything logged at Warning or above.
/// </summary>
internal sealed class FuzzServer : IAsyncDisposable
{
    public const string Collection = "messages";
    public const int MaxBodyBytes = 2048;
    public const int MaxRecordBytes = 1024;

    private FuzzServer(WebApplication app, Uri baseAddress, ErrorLog errors)
    {
        App = app;
        BaseAddress = baseAddress;
        Errors = errors;

        // Latin-1 for header values: every char up to U+00FF goes out as that one byte, so values can carry any byte
        // HttpClient allows in a header (it refuses CR, LF and NUL).
        Client = new HttpClient(new SocketsHttpHandler { RequestHeaderEncodingSelector = static (_, _) => Encoding.Latin1, PooledConnectionLifetime = TimeSpan.FromMinutes(1), MaxResponseDrainSize = 0 })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromSeconds(5),
        };
    }

    public WebApplication App { get; }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    public ErrorLog Errors { get; }

    public LiveCollection Live => App.Services.GetRequiredService<CollectionRegistry>().GetCollection(Collection);

    public static async Task<FuzzServer> StartAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = "Production",
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var errors = new ErrorLog();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(errors);
        builder.Services.AddRocket()
            .AddCollection(Collection, static o =>
            {
                o.MaxRecordBytes = MaxRecordBytes;
                o.HeartbeatInterval = System.Threading.Timeout.InfiniteTimeSpan;
            })
            .AddSseTransport();
        builder.Services.Configure<RocketHttpOptions>(static o => o.MaxBodyBytes = MaxBodyBytes);

        var app = builder.Build();
        app.MapRocketCollection(Collection);
        await app.StartAsync();
        return new FuzzServer(app, new Uri(app.Urls.Single() + "/"), errors);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }

    /// <summary>Everything logged at Warning or above: a request the server failed on shows up here.</summary>
    internal sealed class ErrorLog : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _entries = new();

        public string[] Entries => [.. _entries];

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(ErrorLog owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel))
                {
                    owner._entries.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}");
                }
            }
        }
    }
}
