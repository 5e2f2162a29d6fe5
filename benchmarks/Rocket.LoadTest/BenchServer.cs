using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.ServerSentEvents;
using System.Net.Sockets;
using System.Runtime;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Rocket.Live;
using Rocket.Redis;

namespace Rocket.LoadTest;

/// <summary>
/// The server process: Rocket's collection <c>bench</c> on its transports, the baselines on their own routes, the raw
/// socket floor on port+1 and the control API (all of them, or one transport's app alone). Loopback only.
/// </summary>
internal static class BenchServer
{
    // A paced event sent later than this after its due time counts as late (a timer tick is about a millisecond).
    private static readonly long LateAfter = Stopwatch.Frequency / 1000;

    private static long s_harnessAllocatedBytes;
    private static bool s_ready;
    private static string s_store = "memory";
    private static long s_lateEvents;

    // The last paced phase's late events, for telling what made them late (see PublishPaced).
    private static readonly List<LateEvent> s_lateLog = [];

    // How long each publish of the last paced phase took, from the send to its completion (µs), under s_lateLog's lock:
    // in memory the publish itself; on Redis the write script's round trip and this node's replica applying it, the
    // part of the Redis hop a subscriber on this node waits for before its event is even queued.
    private static long[] s_publishUs = [];
    private static int s_publishCount;
    private static long[] s_pendingWork = [];
    private static int s_pendingWorkCount;
    private static long[] s_sorted = [];

    private static void RecordPublish(long sentAt)
    {
        var took = (Stopwatch.GetTimestamp() - sentAt) * 1_000_000 / Stopwatch.Frequency;
        lock (s_lateLog)
        {
            s_publishUs[s_publishCount++] = took;
        }
    }

    /// <summary>The transports a server can be limited to with <c>--transport</c>: each one's app, as its users would write it.</summary>
    public static readonly string[] Transports = ["sse", "sse-guarded", "websocket", "signalr", "signalr-messagepack", "baseline-sse", "baseline-signalr", "raw"];

    /// <summary>
    /// Runs the server. With <paramref name="only"/> null it hosts every transport; with a transport's name, only what an
    /// app serving that transport alone registers and maps (its services, its middleware, its route), besides the control
    /// API and the raw floor's listener. <c>run-load.sh</c> starts a server per transport and repetition with its name:
    /// what one transport needs (SignalR brings the authorization middleware, which runs for every request; the WebSocket
    /// transport needs <c>UseWebSockets</c>) then weighs on its own connections only.
    /// </summary>
    /// <param name="port">The loopback port of the HTTP server; the raw floor listens on the next one.</param>
    /// <param name="only">The one transport to host, or null for all of them.</param>
    /// <param name="redis">
    /// A Redis (<c>host:port</c>) to keep Rocket's collection in, through <c>AddRedis</c>: every publish, the harness's
    /// and the REST scaffold's, is then a write script in Redis and reaches the subscribers through this node's replica,
    /// as in an app scaled out. Null keeps the collection in memory.
    /// </param>
    /// <param name="keyPrefix">The Redis key prefix (<c>RedisRocketOptions.KeyPrefix</c>): nodes given the same one share the collection.</param>
    public static async Task<int> RunAsync(int port, string? only, string? redis = null, string? keyPrefix = null)
    {
        // signalr-messagepack is the same app as signalr (both hub protocols are registered); its clients speak MessagePack.
        // sse-guarded is the sse app with the collection behind an authorization policy (a user from a header): the
        // policy runs once per subscribe, so its fan-out should match the open collection's.
        bool Hosts(string transport) => only is null || only == transport || (transport == "signalr" && only == "signalr-messagepack") || (transport == "sse" && only == "sse-guarded");

        // Started first, so Kestrel's memory-pool meter is seen from its first block.
        using var allocations = new AllocationSampler();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        var rocket = Hosts("sse") || Hosts("websocket") || Hosts("signalr");
        if (rocket)
        {
            var rocketBuilder = builder.Services.AddRocket()
                .AddCollection(Payload.Collection, static o =>
                {
                    // A flood of up to a few thousand events must not close subscribers as slow consumers: the baselines
                    // have back-pressure instead, and a closed subscriber would only measure the close path.
                    o.SubscriberQueueMaxEvents = 16_384;
                    o.SubscriberQueueMaxBytes = 64L * 1024 * 1024;
                });
            if (Hosts("sse"))
            {
                rocketBuilder.AddSseTransport();
            }

            if (only == "sse-guarded")
            {
                builder.Services.AddAuthentication(HeaderUser.SchemeName).AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, HeaderUser>(HeaderUser.SchemeName, null);
                builder.Services.AddAuthorization();
                rocketBuilder.RequireAuthorization(Payload.Collection);
            }

            if (Hosts("websocket"))
            {
                rocketBuilder.AddWebSocketTransport();
            }

            if (Hosts("signalr"))
            {
                rocketBuilder.AddSignalRTransport();
            }

            if (redis is not null)
            {
                s_store = "redis";
                rocketBuilder.AddRedis(o =>
                {
                    o.Configuration = redis;
                    o.KeyPrefix = keyPrefix ?? "rocket";
                });

                // A replica reloading, a gap filled from the log or a message that failed would change what a run
                // measures: they are logged as warnings, so they show in the server log.
                builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
            }
        }

        if (Hosts("baseline-signalr"))
        {
            builder.Services.AddSignalR();
        }

        builder.Services.AddSingleton<Baselines>();

        var app = builder.Build();
        if (only == "sse-guarded")
        {
            app.UseAuthentication();
        }

        if (Hosts("websocket"))
        {
            app.UseWebSockets();
        }

        if (Hosts("sse") || Hosts("websocket"))
        {
            app.MapRocketCollection(Payload.Collection);
        }

        if (Hosts("signalr"))
        {
            app.MapRocketHub();
        }

        if (Hosts("baseline-signalr"))
        {
            app.MapHub<BaselineHub>("/baseline/signalr");
        }

        var baselines = app.Services.GetRequiredService<Baselines>();
        if (Hosts("baseline-sse"))
        {
            app.MapGet("/baseline/sse", baselines.ServeSseAsync);
        }

        var raw = new RawFloor();

        var publisher = rocket ? app.Services.GetRequiredService<IRocketPublisher>() : null;
        var registry = rocket ? app.Services.GetRequiredService<CollectionRegistry>() : null;
        var hub = Hosts("baseline-signalr") ? app.Services.GetRequiredService<IHubContext<BaselineHub>>() : null;
        app.MapGet("/control/subscribers", (string target) => Results.Json(new { count = Subscribers(target) }));
        // 503 until the benchmark record exists (see below): run-load.sh waits for this to answer before it loads.
        app.MapGet("/control/stats", (bool? collect) => Volatile.Read(ref s_ready) ? Results.Json(Stats(collect ?? false)) : Results.StatusCode(StatusCodes.Status503ServiceUnavailable));
        // What was allocated since the previous reset, by sampled type; the load process resets it as the flood starts
        // and reads it (resetting again) when the last delivery has arrived.
        app.MapGet("/control/allocations", (bool? reset, int? top) => Results.Json(allocations.Read(reset ?? false, Math.Clamp(top ?? 12, 1, 100))));
        app.MapPost("/control/publish", (string target, int count, double? rate, long seqBase) =>
        {
            if (count is < 1 or > 1_000_000 || Subscribers(target) < 0)
            {
                return Results.BadRequest();
            }

            if (rate is > 0)
            {
                // The schedule runs on a thread of its own that sleeps to each due time (see PublishPaced).
                new Thread(() => PublishPaced(target, count, rate.Value, seqBase, app.Lifetime.ApplicationStopping))
                {
                    IsBackground = true,
                    Name = "bench paced publisher",
                }.Start();
            }
            else
            {
                _ = Task.Run(() => PublishFloodAsync(target, count, seqBase, app.Lifetime.ApplicationStopping));
            }

            return Results.Accepted();
        });

        using var listener = new TcpListener(IPAddress.Loopback, port + 1);
        listener.Start(8192);
        _ = Task.Run(() => raw.AcceptAsync(listener, app.Lifetime.ApplicationStopping));

        // Started before the record the events update is created: on Redis the publisher commits through the replica,
        // which the host loads as it starts.
        await app.StartAsync();
        if (publisher is not null)
        {
            await CreateRecordAsync(publisher, registry!.GetCollection(Payload.Collection));
        }

        Volatile.Write(ref s_ready, true);
        await app.WaitForShutdownAsync();
        return 0;

        int Subscribers(string target) => target switch
        {
            "rocket" when registry is not null => registry.GetCollection(Payload.Collection).SubscriberCount,
            "baseline-sse" when Hosts("baseline-sse") => baselines.SseCount,
            "baseline-signalr" when hub is not null => BaselineHub.Connected,
            "raw" => raw.Count,
            _ => -1,
        };

        // A flood: as fast as the target takes the events, on the thread pool; each event is due when it is sent.
        async Task PublishFloodAsync(string target, int count, long seqBase, CancellationToken cancellationToken)
        {
            // Each event is built into this one buffer, so the harness itself allocates nothing per event; what it does
            // allocate (measured on this thread around the building) is reported apart from the server's figure. Rocket
            // copies the record into its change before PublishAsync returns, so the buffer is free again at once even
            // while the write is in flight.
            var buffer = new byte[Payload.MaxFrameBytes];
            var inFlight = PublishesInFlight(target);
            var pending = new Queue<Task>(inFlight);
            for (var i = 1; i <= count && !cancellationToken.IsCancellationRequested; i++)
            {
                var ts = Stopwatch.GetTimestamp();
                var send = SendAsync(target, buffer, seqBase + i, ts, due: ts, cancellationToken);
                if (!send.IsCompletedSuccessfully)
                {
                    pending.Enqueue(send.AsTask());
                    if (pending.Count >= inFlight)
                    {
                        await pending.Dequeue();
                    }
                }
            }

            while (pending.Count > 0)
            {
                await pending.Dequeue();
            }
        }

        // At a fixed rate, for latency. Each event carries two times, and the receivers record a latency from each
        // (coordinated omission): from ts, the actual send (p50Us, p99Us), which leaves out how late the publisher was,
        // and from due, the event's slot in the schedule (pacedDueP50Us, pacedDueP99Us: the intended latency of
        // HdrHistogram and wrk2), which holds it. Late is: held back by the previous sends (a broadcast that awaits every
        // connection, a full channel), or woken late. The schedule has a thread of its own, which sleeps to each due time
        // and waits for each send by blocking, so it does not queue behind the server's work in the thread pool: there,
        // on Task.Delay, it woke 1 to 2 ms late at the median and several milliseconds late at the 99th percentile at
        // every N, and that showed in the latency from due (p50 at N = 1: about 1.5 ms, where the latency from ts was
        // 0.3 ms).
        void PublishPaced(string target, int count, double rate, long seqBase, CancellationToken cancellationToken)
        {
            var buffer = new byte[Payload.MaxFrameBytes];
            var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            lock (s_lateLog)
            {
                s_lateLog.Clear();
                if (s_publishUs.Length < count)
                {
                    s_publishUs = new long[count];
                    s_pendingWork = new long[count];
                }

                s_publishCount = 0;
                s_pendingWorkCount = 0;
            }

            var window = PublishesInFlight(target);
            var pending = new Queue<Task>(window);
            // The thread pool's queue as each event is sent: work the node has not got to yet, which an event applied on
            // the thread pool (on Redis, a commit's reply or a pub/sub message) waits behind.
            var pendingWork = new long[count];
            Interlocked.Add(ref s_harnessAllocatedBytes, GC.GetAllocatedBytesForCurrentThread() - allocatedBefore);

            var start = Stopwatch.GetTimestamp();
            for (var i = 1; i <= count && !cancellationToken.IsCancellationRequested; i++)
            {
                var due = start + (long)(i / rate * Stopwatch.Frequency);
                var gcsBefore = GC.CollectionCount(0);
                var jittedBefore = JitInfo.GetCompiledMethodCount();
                SleepUntil(due);
                var ts = Stopwatch.GetTimestamp();
                if (ts - due > LateAfter)
                {
                    // Counted too (pacedLateEvents): how many events the latency from ts leaves a wait out of. Each is
                    // logged with what happened in the process while the publisher waited for it: collections (which
                    // suspend every managed thread) and methods compiled (tiering up, which suspends them to install code).
                    Interlocked.Increment(ref s_lateEvents);
                    var late = new LateEvent(i, (ts - due) * 1_000_000 / Stopwatch.Frequency, GC.CollectionCount(0) - gcsBefore, JitInfo.GetCompiledMethodCount() - jittedBefore);
                    lock (s_lateLog)
                    {
                        s_lateLog.Add(late);
                    }
                }

                pendingWork[i - 1] = ThreadPool.PendingWorkItemCount;
                var send = SendAsync(target, buffer, seqBase + i, ts, due, cancellationToken);
                if (send.IsCompletedSuccessfully)
                {
                    RecordPublish(ts);
                }
                else if (window == 1)
                {
                    send.AsTask().GetAwaiter().GetResult();
                    RecordPublish(ts);
                }
                else
                {
                    // On Redis: the next event goes out on schedule while this one commits; its time is taken when it
                    // completes (a failure still fails the phase). The continuation is the harness's allocation.
                    var sentAt = ts;
                    var before = GC.GetAllocatedBytesForCurrentThread();
                    pending.Enqueue(send.AsTask().ContinueWith(
                        t =>
                        {
                            RecordPublish(sentAt);
                            t.GetAwaiter().GetResult();
                        },
                        CancellationToken.None,
                        TaskContinuationOptions.ExecuteSynchronously,
                        TaskScheduler.Default));
                    Interlocked.Add(ref s_harnessAllocatedBytes, GC.GetAllocatedBytesForCurrentThread() - before);
                    while (pending.Count >= window)
                    {
                        pending.Dequeue().GetAwaiter().GetResult();
                    }
                }
            }

            while (pending.Count > 0)
            {
                pending.Dequeue().GetAwaiter().GetResult();
            }

            lock (s_lateLog)
            {
                Array.Copy(pendingWork, s_pendingWork, count);
                s_pendingWorkCount = count;
            }
        }

        // Builds event `seq` into the buffer and hands it to the target; most targets complete at once.
        ValueTask SendAsync(string target, byte[] buffer, long seq, long ts, long due, CancellationToken cancellationToken)
        {
            var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            var length = target switch
            {
                "rocket" => Payload.WriteRecord(buffer, seq, ts, due),
                "raw" => Payload.WriteSseFrame(buffer, seq, ts, due),
                _ => Payload.WritePatch(buffer, seq, ts, due),
            };
            Interlocked.Add(ref s_harnessAllocatedBytes, GC.GetAllocatedBytesForCurrentThread() - allocatedBefore);
            var payload = buffer.AsSpan(0, length);

            // From here on every allocation is the server's: Rocket copies the record into its change; a baseline makes
            // the array or string it queues, as an app using it would.
            switch (target)
            {
                case "rocket":
                    var published = publisher!.PublishAsync(Payload.Collection, ChangeSet.Create(RecordChange.Update(Payload.RecordId, payload)), cancellationToken);
                    return published.IsCompletedSuccessfully ? default : new ValueTask(published.AsTask());
                case "baseline-sse":
                    return new ValueTask(baselines.PublishSseAsync(payload.ToArray()));
                case "baseline-signalr":
                    return new ValueTask(hub!.Clients.All.SendAsync("event", Encoding.UTF8.GetString(payload), cancellationToken));
                case "raw":
                    raw.Publish(payload);
                    return default;
                default:
                    return default;
            }
        }
    }

    // How many publishes, of a flood or of the paced schedule, may be in flight at once. In memory a publish completes as
    // it is called, and a baseline's must not overlap the next (two sends would interleave in its channels): one, as
    // before. On Redis each publish is a write script's round trip, and one writer awaiting each would measure that
    // round trip rather than fan-out (a smoke run at one subscriber: about 2,000 events per second in a flood), and would
    // not hold the schedule (at 1,000 subscribers a commit took over 10 ms at the median, so a paced publisher that waited
    // for each sent 999 of 1,000 events late and fell seconds behind: about 60 events per second instead of 100).
    // Several in flight, as several writers of an app would have, keep Redis and the replica busy and the rate held. Their order is kept: StackExchange.Redis sends commands in the
    // order they are made, Redis numbers them in that order, and the replica applies them by that number (a receiver
    // would count anything else as a gap).
    private static int PublishesInFlight(string target) => target == "rocket" && s_store == "redis" ? 16 : 1;

    // Every event updates record r1, so it must exist. On Redis it may already: another node on the same collection
    // created it first (each run-load.sh server gets a fresh key prefix, so it is never an older run's record).
    private static async Task CreateRecordAsync(IRocketPublisher publisher, LiveCollection collection)
    {
        if (collection.TryGet(Payload.RecordId, out _))
        {
            return;
        }

        try
        {
            await publisher.PublishAsync(Payload.Collection, ChangeSet.Create(RecordChange.Create(Payload.RecordId, Payload.Record(0, 0, 0))));
        }
        catch (ChangeRefusedException e) when (e.Reason == ChangeRefusal.RecordAlreadyExists)
        {
            // The other node's create won the race.
        }
    }

    // Sleeps until the Stopwatch timestamp `due`: whole milliseconds with Thread.Sleep (which wakes a little after), then
    // the rest, under a millisecond, by spinning. That last stretch is the only CPU the wait costs (at most a millisecond
    // per event, counted in the server's paced CPU figures). It spins without yielding: `perf sched` showed a
    // Thread.Yield there making some events late, by handing the core to the runtime's tiered-compilation thread, which
    // then ran 2.4 ms before the publisher got it back, while the other core sat idle.
    private static void SleepUntil(long due)
    {
        while (true)
        {
            var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            if (remaining <= TimeSpan.Zero)
            {
                return;
            }

            if (remaining >= TimeSpan.FromMilliseconds(1))
            {
                Thread.Sleep((int)remaining.TotalMilliseconds);
            }
            else
            {
                Thread.SpinWait(64);
            }
        }
    }

    // A percentile of the last paced phase's publish durations (µs) or thread-pool queue lengths; -1 before any. Sorted in
    // a kept array, so reading it allocates nothing once that array has the phase's size.
    private static long Percentile(long[] values, int count, double fraction)
    {
        lock (s_lateLog)
        {
            if (count == 0)
            {
                return -1;
            }

            if (s_sorted.Length < count)
            {
                s_sorted = new long[values.Length];
            }

            Array.Copy(values, s_sorted, count);
            Array.Sort(s_sorted, 0, count);
            return s_sorted[Math.Max(0, (int)Math.Ceiling(fraction * count) - 1)];
        }
    }

    private static LateEvent[] LateLog()
    {
        lock (s_lateLog)
        {
            return [.. s_lateLog];
        }
    }

    private static object Stats(bool collect)
    {
        if (collect)
        {
            // Aggressive: compacts and gives freed memory back to the OS, so the RSS that follows is what is live.
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }

        using var process = Process.GetCurrentProcess();
        var gc = GC.GetGCMemoryInfo();
        return new
        {
            // Where Rocket's collection lives: "memory" or "redis" (server --redis).
            store = s_store,
            publishesInFlight = PublishesInFlight("rocket"),
            allocatedBytes = GC.GetTotalAllocatedBytes(precise: true),
            harnessAllocatedBytes = Interlocked.Read(ref s_harnessAllocatedBytes),
            lateEvents = Interlocked.Read(ref s_lateEvents),
            lateLog = LateLog(),
            pacedPublishP50Us = Percentile(s_publishUs, s_publishCount, 0.50),
            pacedPublishP99Us = Percentile(s_publishUs, s_publishCount, 0.99),
            pacedPendingWorkItemsP50 = Percentile(s_pendingWork, s_pendingWorkCount, 0.50),
            pacedPendingWorkItemsP99 = Percentile(s_pendingWork, s_pendingWorkCount, 0.99),
            gen0 = GC.CollectionCount(0),
            // Methods compiled so far (tier 0, tier 1, OSR): a phase that compiles is not yet the steady state.
            jittedMethods = JitInfo.GetCompiledMethodCount(),
            cpuMs = process.TotalProcessorTime.TotalMilliseconds,
            rssBytes = process.WorkingSet64,
            // After a collect: the live objects (managed heap), and what the GC holds from the OS for its heap. RSS minus
            // the committed bytes is native: the runtime, code, thread stacks, native buffers.
            managedBytes = GC.GetTotalMemory(forceFullCollection: false),
            gcCommittedBytes = gc.TotalCommittedBytes,
            // How many thread-pool work items ran (continuations, scheduled sends): wake-ups per delivery.
            threadPoolWorkItems = ThreadPool.CompletedWorkItemCount,
            lockContentions = Monitor.LockContentionCount,
            threadPoolThreads = ThreadPool.ThreadCount,
        };
    }
}

/// <summary>A paced event sent late: its index in the phase, by how much, and what ran in the process while it was waited for.</summary>
internal sealed record LateEvent(int Index, long LateUs, int Collections, long JittedMethods);

/// <summary>Plain SignalR: the server calls <c>Clients.All.SendAsync("event", payload)</c>; default options and buffers.</summary>
internal sealed class BaselineHub : Hub
{
    private static int s_connected;

    public static int Connected => Volatile.Read(ref s_connected);

    public override Task OnConnectedAsync()
    {
        Interlocked.Increment(ref s_connected);
        return base.OnConnectedAsync();
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        Interlocked.Decrement(ref s_connected);
        return base.OnDisconnectedAsync(exception);
    }
}

/// <summary>The naive SSE endpoint.</summary>
internal sealed class Baselines
{
    private static ReadOnlySpan<byte> Hello => ": hello\n\n"u8;

    private readonly ConcurrentDictionary<int, Channel<byte[]>> _sse = new();
    private int _nextId;

    public int SseCount => _sse.Count;

    /// <summary>
    /// What a user writes with what ASP.NET Core offers: a channel per subscriber, <see cref="SseFormatter"/> formatting
    /// every event for every subscriber, and (inside SseFormatter) a flush per event.
    /// </summary>
    public async Task ServeSseAsync(HttpContext context)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await context.Response.Body.WriteAsync(Hello.ToArray(), context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);

        var channel = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(16_384) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        var id = Interlocked.Increment(ref _nextId);
        _sse[id] = channel;
        try
        {
            await SseFormatter.WriteAsync(
                Items(channel.Reader, context.RequestAborted),
                context.Response.Body,
                static (item, writer) => writer.Write(item.Data),
                context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            // The client went away: a normal end.
        }
        finally
        {
            _sse.TryRemove(id, out _);
        }
    }

    public async Task PublishSseAsync(byte[] patch)
    {
        foreach (var channel in _sse.Values)
        {
            await channel.Writer.WriteAsync(patch);
        }
    }

    private static async IAsyncEnumerable<SseItem<byte[]>> Items(ChannelReader<byte[]> reader, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var patch in reader.ReadAllAsync(cancellationToken))
        {
            yield return new SseItem<byte[]>(patch, "patch");
        }
    }
}
