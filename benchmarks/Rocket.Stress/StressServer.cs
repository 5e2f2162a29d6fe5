using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Rocket.Live;

namespace Rocket.Stress;

/// <summary>
/// The server under stress: the collection <c>bench</c> on SSE, WebSocket and SignalR with Rocket's default limits, as an
/// app would map it, and a control API for the driver (fill, publish, kick every stream, statistics). Loopback only.
/// </summary>
internal static class StressServer
{
    public const string Collection = "bench";

    private static long s_published;
    private static CancellationTokenSource? s_publishing;

    /// <param name="port">The loopback port.</param>
    /// <param name="sendBuffer">
    /// A fixed socket send buffer for every connection (set on the listening socket, which accepted ones inherit), or 0 for
    /// the kernel's autotuning, which lets a loopback connection buffer up to 4 MiB before the server sees back-pressure.
    /// </param>
    public static async Task<int> RunAsync(int port, int sendBuffer)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        if (sendBuffer > 0)
        {
            builder.WebHost.UseSockets(o => o.CreateBoundListenSocket = endpoint =>
            {
                var socket = SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);
                socket.SendBufferSize = sendBuffer;
                return socket;
            });
        }

        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        builder.Services.AddRocket()
            .AddCollection(Collection)
            .AddSseTransport()
            .AddWebSocketTransport()
            .AddSignalRTransport();

        var app = builder.Build();
        var streams = new ConcurrentDictionary<HttpContext, byte>();

        // Every request but the control API is remembered while it runs, so /control/kick can drop them all at once, as
        // a load balancer or a network fault would.
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/control"))
            {
                await next(context);
                return;
            }

            streams.TryAdd(context, 0);
            try
            {
                await next(context);
            }
            finally
            {
                streams.TryRemove(context, out _);
            }
        });
        app.UseWebSockets();
        app.MapRocketCollection(Collection);
        app.MapRocketHub();

        var collection = app.Services.GetRequiredService<CollectionRegistry>().GetCollection(Collection);
        collection.Create("tick", "{\"id\":\"tick\",\"n\":-1}"u8);
        app.MapPost("/control/fill", (int records, int bytes) =>
        {
            // Records of about `bytes` each, created in change sets of 100 (one event each).
            var text = new string('x', Math.Max(1, bytes - 40));
            for (var i = 0; i < records; i += 100)
            {
                var changes = new RecordChange[Math.Min(100, records - i)];
                for (var j = 0; j < changes.Length; j++)
                {
                    changes[j] = RecordChange.Create($"r{i + j}", Encoding.UTF8.GetBytes($"{{\"id\":\"r{i + j}\",\"text\":\"{text}\"}}"));
                }

                collection.Apply(ChangeSet.Create(changes));
            }

            return Results.Json(new { cursor = collection.Cursor.ToString() });
        });
        app.MapPost("/control/publish", (double rate, int? pad) =>
        {
            // Updates of one record (with `pad` bytes of text) at a steady rate, until /control/stop.
            var stop = new CancellationTokenSource();
            Interlocked.Exchange(ref s_publishing, stop)?.Cancel();
            var padding = new string('p', Math.Clamp(pad ?? 0, 0, 1_000_000));
            _ = Task.Run(() => Publish(collection, rate, padding, stop.Token));
            return Results.Json(new { cursor = collection.Cursor.ToString() });
        });
        app.MapPost("/control/stop", () =>
        {
            Interlocked.Exchange(ref s_publishing, null)?.Cancel();
            return Results.Json(new { published = Interlocked.Read(ref s_published), cursor = collection.Cursor.ToString() });
        });
        app.MapPost("/control/kick", () =>
        {
            var kicked = 0;
            foreach (var context in streams.Keys)
            {
                context.Abort();
                kicked++;
            }

            return Results.Json(new { kicked });
        });
        app.MapGet("/control/stats", (bool? collect) => Results.Json(Stats(collection, collect ?? false)));

        await app.RunAsync();
        return 0;
    }

    private static object Stats(LiveCollection collection, bool collect)
    {
        if (collect)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        }

        using var process = Process.GetCurrentProcess();
        return new
        {
            subscribers = collection.SubscriberCount,
            heap = GC.GetTotalMemory(false),
            rss = process.WorkingSet64,
            cursor = collection.Cursor.ToString(),
        };
    }

    private static async Task Publish(LiveCollection collection, double rate, string padding, CancellationToken stop)
    {
        var interval = Stopwatch.Frequency / rate;
        var started = Stopwatch.GetTimestamp();
        long sent = 0;
        while (!stop.IsCancellationRequested)
        {
            var due = started + (long)(sent * interval);
            var wait = due - Stopwatch.GetTimestamp();
            if (wait > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency), CancellationToken.None);
                continue;
            }

            collection.Update("tick", Encoding.UTF8.GetBytes($"{{\"id\":\"tick\",\"n\":{sent},\"pad\":\"{padding}\"}}"));
            sent++;
            Interlocked.Increment(ref s_published);
        }
    }
}
