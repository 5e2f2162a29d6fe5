using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.LoadTest;

/// <summary>Options of the <c>load</c> mode.</summary>
internal sealed record LoadOptions(Uri Server, string Transport, int Subscribers, int Events, double Rate, int PacedEvents, int TimeoutSeconds, int HoldSeconds = 0, int PacedWarmupEvents = 0)
{
    /// <summary>
    /// A second node on the same Redis collection as <see cref="Server"/>: every other receiver (the first, the third, …,
    /// so half, and the one at N = 1) subscribes there, while events are still published on <see cref="Server"/>.
    /// </summary>
    public Uri? Server2 { get; init; }

    /// <summary>The Redis the servers keep the collection in (<c>host:port</c>), to read its CPU and command counts around each phase.</summary>
    public string? Redis { get; init; }
}

/// <summary>The servers of a run and the Redis behind them, read around each phase.</summary>
internal sealed record Nodes(HttpClient Control, HttpClient? Control2, string? Redis);

/// <summary>
/// The load process: opens N receivers, waits until the server counts them all, then (1) publishes a paced phase at a
/// fixed rate for latency and the steady state (after a warm-up at the same rate, measured apart), (2) publishes a flood as fast as the server goes for throughput, (3) publishes the same flood
/// again on the now warm connections, and prints one JSON line.
/// </summary>
internal static class LoadRunner
{
    // Connecting thousands of clients at once would overflow the listen backlog; this many connect at a time.
    private const int ConnectConcurrency = 64;

    public static async Task<int> RunAsync(LoadOptions options)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(options.TimeoutSeconds + options.HoldSeconds));
        var ct = timeout.Token;
        // Control requests after the connections are up use CancellationToken.None (bounded by the control client's
        // 30 s timeout): a run that reaches its deadline still reports what was delivered instead of crashing.
        // Receive loops end when this is canceled, at the end of the run or at the deadline.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var target = options.Transport switch
        {
            "sse" or "sse-guarded" or "websocket" or "signalr" or "signalr-messagepack" => "rocket",
            "baseline-sse" or "baseline-signalr" or "raw" => options.Transport,
            _ => throw new ArgumentException($"Unknown transport '{options.Transport}'.", nameof(options)),
        };

        using var control = new HttpClient { BaseAddress = options.Server, Timeout = TimeSpan.FromSeconds(30) };
        using var control2 = options.Server2 is null ? null : new HttpClient { BaseAddress = options.Server2, Timeout = TimeSpan.FromSeconds(30) };
        var nodes = new Nodes(control, control2, options.Redis);

        // With two nodes, the receivers alternate between them, the first on the second node: at N = 1 the one receiver
        // gets its events through Redis's pub/sub only, never through the publishing node's own commit.
        var onNode2 = control2 is null ? 0 : (options.Subscribers + 1) / 2;
        var onNode1 = options.Subscribers - onNode2;

        // Leftovers of an earlier run must be gone, or they would be counted as this run's subscribers.
        await WaitForSubscribersAsync(control, target, 0, ct);
        if (control2 is not null)
        {
            await WaitForSubscribersAsync(control2, target, 0, ct);
        }

        var idleBefore = await StatsAsync(control, collect: true, ct);
        if (control2 is not null && idleBefore.Store != "redis")
        {
            Console.Error.WriteLine("--server2 needs both servers on one Redis (server --redis with the same --key-prefix).");
            return 1;
        }

        var state = new RunState(DateTimeOffset.UtcNow.ToUnixTimeSeconds() * 1_000_000);
        var receivers = new List<Receiver>(options.Subscribers);
        for (var i = 0; i < options.Subscribers; i++)
        {
            var node = control2 is not null && i % 2 == 0 ? 1 : 0;
            var receiver = Create(options, state, node == 1 ? options.Server2! : options.Server);
            receiver.Node = node;
            receivers.Add(receiver);
        }

        var connect = Stopwatch.StartNew();
        using (var gate = new SemaphoreSlim(ConnectConcurrency))
        {
            var starts = new List<Task>(receivers.Count);
            foreach (var receiver in receivers)
            {
                await gate.WaitAsync(ct);
                starts.Add(StartAsync(receiver, gate, stop.Token));
            }

            await Task.WhenAll(starts);
        }

        await WaitForSubscribersAsync(control, target, onNode1, ct);
        if (control2 is not null)
        {
            await WaitForSubscribersAsync(control2, target, onNode2, ct);
        }

        var connectSeconds = connect.Elapsed.TotalSeconds;
        var idle = await StatsAsync(control, collect: true, ct);

        var result = new Dictionary<string, object?>
        {
            ["transport"] = options.Transport,
            // memory: one node, the collection in memory; redis: one node on Redis; redis2: two nodes on one Redis.
            ["mode"] = idleBefore.Store == "redis" ? (control2 is null ? "redis" : "redis2") : "memory",
            ["subscribers"] = options.Subscribers,
            ["machineDamon"] = MachineCpu.Damon(),
            ["connectSeconds"] = Math.Round(connectSeconds, 3),
        };
        if (control2 is not null)
        {
            result["subscribersNode1"] = onNode1;
            result["subscribersNode2"] = onNode2;
        }

        if (onNode1 > 0)
        {
            // The publishing node's connections only (with two nodes, half of them).
            result["idleRssBytesPerConnection"] = (idle.RssBytes - idleBefore.RssBytes) / onNode1;
            // The managed heap's share of it (live objects after the same forced collection), and what the GC commits.
            result["idleManagedBytesPerConnection"] = (idle.ManagedBytes - idleBefore.ManagedBytes) / onNode1;
            result["idleGcCommittedBytesPerConnection"] = (idle.GcCommittedBytes - idleBefore.GcCommittedBytes) / onNode1;
        }

        if (options.HoldSeconds > 0)
        {
            // Keeps the idle receivers connected so the server's heap can be inspected (dotnet-gcdump); the run's deadline
            // is extended by as much, and nothing is measured meanwhile.
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"holding {options.Subscribers} idle receivers for {options.HoldSeconds} s"));
            await Task.Delay(TimeSpan.FromSeconds(options.HoldSeconds), CancellationToken.None);
        }

        long expected = 0;
        var seq = state.SeqBase;

        // Phase 1: a fixed rate, for latency.
        if (options.PacedEvents > 0 && options.Rate > 0)
        {
            if (options.PacedWarmupEvents > 0)
            {
                // The stream's first events at the same rate, measured apart: what a new stream grows once (the log's
                // ring, the pools' first arrays, pipe segments) is paid here, and the phase after it is the steady state.
                state.Histogram = new LatencyHistogram();
                expected += (long)options.PacedWarmupEvents * options.Subscribers;
                var warmup = await MeasureAsync(nodes, target, options.PacedWarmupEvents, options.Rate, seq, state, expected, ct);
                seq += options.PacedWarmupEvents;
                var warmupHarness = warmup.After.HarnessAllocatedBytes - warmup.Before.HarnessAllocatedBytes;
                result["pacedWarmupEvents"] = options.PacedWarmupEvents;
                result["pacedWarmupComplete"] = warmup.Complete;
                result["pacedWarmupServerAllocatedBytesPerDelivery"] = Math.Round((warmup.After.AllocatedBytes - warmup.Before.AllocatedBytes - warmupHarness) / warmup.Deliveries, 3);
            }

            var paced = new LatencyHistogram();
            var pacedDue = new LatencyHistogram();
            state.Histogram = paced;
            state.DueHistogram = pacedDue;
            if (control2 is not null)
            {
                // Each node's receivers apart: the publishing node's get an event from its own commit or from pub/sub,
                // whichever comes first; the other node's from pub/sub only.
                state.NodeHistograms = [new LatencyHistogram(), new LatencyHistogram()];
            }

            expected += (long)options.PacedEvents * options.Subscribers;
            var phase = await MeasureAsync(nodes, target, options.PacedEvents, options.Rate, seq, state, expected, ct);
            seq += options.PacedEvents;
            if (state.NodeHistograms is { } byNode)
            {
                result["node1P50Us"] = byNode[0].Percentile(0.50);
                result["node1P99Us"] = byNode[0].Percentile(0.99);
                result["node2P50Us"] = byNode[1].Percentile(0.50);
                result["node2P99Us"] = byNode[1].Percentile(0.99);
                state.NodeHistograms = null;
            }

            result["rate"] = options.Rate;
            result["pacedEvents"] = options.PacedEvents;
            result["pacedComplete"] = phase.Complete;
            result["p50Us"] = paced.Percentile(0.50);
            result["p99Us"] = paced.Percentile(0.99);
            // The same deliveries timed from when each event was due instead of when it was sent (BenchServer): what a
            // publisher held back by earlier sends, or by its timer, adds to these and not to the two above.
            result["pacedDueP50Us"] = pacedDue.Percentile(0.50);
            result["pacedDueP99Us"] = pacedDue.Percentile(0.99);
            // Events the publisher sent more than a millisecond after they were due (BenchServer).
            result["pacedLateEvents"] = phase.After.LateEvents - phase.Before.LateEvents;
            // Each late event with what ran in the server while the publisher waited for it (collections, methods
            // compiled), and the phase's totals of both: what makes the publisher late.
            result["pacedLateLog"] = phase.After.LateLog;
            // How long the publisher waited for each publish (BenchServer): on Redis, the write's round trip and the
            // replica applying it, which every subscriber of the publishing node waits out too.
            result["pacedPublishP50Us"] = phase.After.PacedPublishP50Us;
            result["pacedPublishP99Us"] = phase.After.PacedPublishP99Us;
            // The server's thread-pool queue as each event was sent (BenchServer).
            result["pacedPendingWorkItemsP50"] = phase.After.PacedPendingWorkItemsP50;
            result["pacedPendingWorkItemsP99"] = phase.After.PacedPendingWorkItemsP99;
            result["pacedServerGen0"] = phase.After.Gen0 - phase.Before.Gen0;
            result["pacedServerJittedMethods"] = phase.After.JittedMethods - phase.Before.JittedMethods;

            // The steady state: a stream the subscribers keep up with, so nothing queues up anywhere. The harness's own
            // allocations (building each event and the delay between events) are measured apart and taken out.
            var harness = phase.After.HarnessAllocatedBytes - phase.Before.HarnessAllocatedBytes;
            result["pacedServerAllocatedBytesPerDelivery"] = Math.Round((phase.After.AllocatedBytes - phase.Before.AllocatedBytes - harness) / phase.Deliveries, 3);
            result["pacedHarnessAllocatedBytesPerDelivery"] = Math.Round(harness / phase.Deliveries, 3);
            result["pacedServerCpuNsPerDelivery"] = Math.Round((phase.After.CpuMs - phase.Before.CpuMs) * 1_000_000 / phase.Deliveries, 1);
            // Every node's CPU (one node: the same as above), so modes with one and two nodes compare.
            result["pacedServersCpuNsPerDelivery"] = Math.Round((phase.After.CpuMs - phase.Before.CpuMs + phase.Node2CpuMs) * 1_000_000 / phase.Deliveries, 1);
            RedisInfo.Add(result, phase.RedisBefore, phase.RedisAfter, options.PacedEvents, "Event", prefix: "paced");
            AllocationWindow.Add(result, phase.Allocations, phase.Deliveries, prefix: "paced");
        }

        // Phase 2: a flood, for throughput and the server's cost per delivery. It has no schedule: its events are due
        // when they are sent, so only the latency from the send is recorded.
        var flood = new LatencyHistogram();
        state.Histogram = flood;
        state.DueHistogram = null;
        expected += (long)options.Events * options.Subscribers;
        var first = await MeasureAsync(nodes, target, options.Events, 0, seq, state, expected, ct);
        var deliveries = first.Deliveries;

        result["events"] = options.Events;
        result["floodComplete"] = first.Complete;
        result["delivered"] = state.Delivered;
        result["expected"] = expected;
        result["gaps"] = state.Gaps;
        result["deliveriesPerSecond"] = Math.Round(deliveries / first.Seconds);
        result["floodSeconds"] = Math.Round(first.Seconds, 4);
        // Publishes the server keeps in flight, in a flood and on the paced schedule (BenchServer.PublishesInFlight): 1 in
        // memory, more on Redis.
        result["publishesInFlight"] = first.After.PublishesInFlight;
        result["floodP50Us"] = flood.Percentile(0.50);
        result["floodP99Us"] = flood.Percentile(0.99);
        result["serverAllocatedBytesPerDelivery"] = Math.Round((first.After.AllocatedBytes - first.Before.AllocatedBytes) / deliveries, 2);
        // The bench server's own event building, measured where it happens: already included in the figure above, so
        // the server's (Rocket + Kestrel) share is the difference.
        result["harnessAllocatedBytesPerDelivery"] = Math.Round((first.After.HarnessAllocatedBytes - first.Before.HarnessAllocatedBytes) / deliveries, 2);
        result["serverThreadPoolWorkItemsPerDelivery"] = Math.Round((first.After.ThreadPoolWorkItems - first.Before.ThreadPoolWorkItems) / deliveries, 3);
        // The server's thread-pool threads as the flood starts and ends: a pool grown by an earlier run (the baselines at
        // 5,000 subscribers) wakes subscriber loops for smaller batches.
        result["serverThreadPoolThreadsBefore"] = first.Before.ThreadPoolThreads;
        result["serverThreadPoolThreadsAfter"] = first.After.ThreadPoolThreads;
        result["serverLockContentionsPerMillionDeliveries"] = Math.Round((first.After.LockContentions - first.Before.LockContentions) * 1_000_000 / deliveries, 1);
        result["serverGen0PerMillionDeliveries"] = Math.Round((first.After.Gen0 - first.Before.Gen0) * 1_000_000 / deliveries, 2);
        result["serverCpuNsPerDelivery"] = Math.Round((first.After.CpuMs - first.Before.CpuMs) * 1_000_000 / deliveries, 1);
        result["serversCpuNsPerDelivery"] = Math.Round((first.After.CpuMs - first.Before.CpuMs + first.Node2CpuMs) * 1_000_000 / deliveries, 1);
        RedisInfo.Add(result, first.RedisBefore, first.RedisAfter, options.Events, "Event");
        // The receivers share the two cores with the server: their cost bounds what any transport can show.
        result["loadCpuNsPerDelivery"] = Math.Round(first.LoadCpu.TotalMilliseconds * 1_000_000 / deliveries, 1);
        // Both processes and the kernel, whichever context ran the work (10 ms ticks; the control requests are in it too).
        result["machineCpuNsPerDelivery"] = Math.Round(first.MachineCpu.TotalMilliseconds * 1_000_000 / deliveries, 1);
        // How many frames a receiver's read brought on average: the batching both sides got (SignalR: one per item).
        result["framesPerRead"] = Math.Round(first.FramesPerRead, 2);
        AllocationWindow.Add(result, first.Allocations, deliveries);

        // Phase 3: the same flood again on the same connections, now warm. The first flood is also each connection's
        // first heavy use (Kestrel's pipes get their segments, its socket senders their vectors, its pool its peak);
        // the second shows what a flood costs once that is done.
        if (first.Complete && state.Gaps == 0 && options.Events > 0)
        {
            expected += (long)options.Events * options.Subscribers;
            var warm = await MeasureAsync(nodes, target, options.Events, 0, seq + options.Events, state, expected, ct);
            result["warmFloodComplete"] = warm.Complete && state.Gaps == 0;
            result["warmFloodDeliveriesPerSecond"] = Math.Round(warm.Deliveries / warm.Seconds);
            result["warmFloodServerAllocatedBytesPerDelivery"] = Math.Round((warm.After.AllocatedBytes - warm.Before.AllocatedBytes) / warm.Deliveries, 2);
            result["warmFloodServerCpuNsPerDelivery"] = Math.Round((warm.After.CpuMs - warm.Before.CpuMs) * 1_000_000 / warm.Deliveries, 1);
            result["warmFloodLoadCpuNsPerDelivery"] = Math.Round(warm.LoadCpu.TotalMilliseconds * 1_000_000 / warm.Deliveries, 1);
            result["warmFloodMachineCpuNsPerDelivery"] = Math.Round(warm.MachineCpu.TotalMilliseconds * 1_000_000 / warm.Deliveries, 1);
            result["warmFloodFramesPerRead"] = Math.Round(warm.FramesPerRead, 2);
            AllocationWindow.Add(result, warm.Allocations, warm.Deliveries, prefix: "warmFlood");
        }

        Console.WriteLine(JsonSerializer.Serialize(result));
        await stop.CancelAsync();
        var disposals = new List<Task>(receivers.Count);
        foreach (var receiver in receivers)
        {
            disposals.Add(receiver.DisposeAsync().AsTask());
        }

        try
        {
            // Closing is not measured; a slow close must not keep the process alive past its run.
            await Task.WhenAll(disposals).WaitAsync(TimeSpan.FromSeconds(15), CancellationToken.None);
        }
        catch (TimeoutException)
        {
            Console.Error.WriteLine("warning: receivers did not close within 15 s");
        }

        return first.Complete && state.Gaps == 0 ? 0 : 2;
    }

    internal static Receiver Create(LoadOptions options, RunState state, Uri server)
    {
        return options.Transport switch
        {
            "sse" => new SseReceiver(state, new Uri(server, "/" + Payload.Collection)),
            "sse-guarded" => new SseReceiver(state, new Uri(server, "/" + Payload.Collection), "X-User: load\r\n"),
            "baseline-sse" => new SseReceiver(state, new Uri(server, "/baseline/sse")),
            "websocket" => new WebSocketReceiver(state, new Uri(server, "/" + Payload.Collection)),
            "signalr" => new SignalRReceiver(state, new Uri(server, "/rocket"), rocket: true),
            "signalr-messagepack" => new SignalRReceiver(state, new Uri(server, "/rocket"), rocket: true, messagePack: true),
            "baseline-signalr" => new SignalRReceiver(state, new Uri(server, "/baseline/signalr"), rocket: false),
            "raw" => new RawReceiver(state, new IPEndPoint(IPAddress.Loopback, server.Port + 1)),
            _ => throw new ArgumentException($"Unknown transport '{options.Transport}'.", nameof(options)),
        };
    }

    internal static async Task StartAsync(Receiver receiver, SemaphoreSlim gate, CancellationToken cancellationToken)
    {
        try
        {
            await receiver.StartAsync(cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }

    internal static async Task PublishAsync(HttpClient control, string target, int count, double rate, long seqBase, CancellationToken cancellationToken)
    {
        var uri = string.Create(CultureInfo.InvariantCulture, $"/control/publish?target={target}&count={count}&rate={rate}&seqBase={seqBase}");
        using var response = await control.PostAsync(new Uri(uri, UriKind.Relative), content: null, cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    internal static async Task WaitForSubscribersAsync(HttpClient control, string target, int count, CancellationToken cancellationToken)
    {
        while (true)
        {
            var answer = await control.GetFromJsonAsync<JsonElement>(new Uri("/control/subscribers?target=" + target, UriKind.Relative), cancellationToken);
            if (answer.GetProperty("count").GetInt32() == count)
            {
                return;
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    // Returns false when the run's deadline passes first; a run that misses deliveries still reports what arrived.
    internal static async Task<bool> WaitForDeliveriesAsync(RunState state, long expected, CancellationToken cancellationToken)
    {
        while (state.Delivered < expected)
        {
            try
            {
                await Task.Delay(1, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        return true;
    }

    // Publishes `events` as fast as the server takes them and waits until `expected` deliveries in all have arrived (or the
    // run's deadline): the server's stats and allocation window around it, and what arrived, not what was sent, so an
    // incomplete flood still reports honest rates.
    // Publishes `events` at `rate` per second (0: as fast as the server can) and measures the server, the load process and
    // the machine around it until every receiver has them (or the deadline).
    // With two nodes, events are published on the first; the second's CPU is read around the phase too, and Redis's.
    private static async Task<FloodResult> MeasureAsync(Nodes nodes, string target, int events, double rate, long seq, RunState state, long expected, CancellationToken ct)
    {
        var control = nodes.Control;
        var deliveredBefore = state.Delivered;
        var readsBefore = state.Reads;
        var before = await StatsAsync(control, collect: false, CancellationToken.None);
        var before2 = nodes.Control2 is null ? null : await StatsAsync(nodes.Control2, collect: false, CancellationToken.None);
        var redisBefore = await RedisInfo.ReadAsync(nodes.Redis, CancellationToken.None);
        await AllocationWindow.ResetAsync(control, CancellationToken.None);
        var loadCpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var machineBefore = MachineCpu.Busy();
        var start = Stopwatch.GetTimestamp();
        await PublishAsync(control, target, events, rate, seq, CancellationToken.None);
        var complete = await WaitForDeliveriesAsync(state, expected, ct);
        var allocations = await AllocationWindow.ReadAsync(control, CancellationToken.None);
        var after = await StatsAsync(control, collect: false, CancellationToken.None);
        var after2 = nodes.Control2 is null ? null : await StatsAsync(nodes.Control2, collect: false, CancellationToken.None);
        var redisAfter = await RedisInfo.ReadAsync(nodes.Redis, CancellationToken.None);
        var loadCpu = Process.GetCurrentProcess().TotalProcessorTime - loadCpuBefore;
        var machineCpu = MachineCpu.Busy() - machineBefore;
        var seconds = Stopwatch.GetElapsedTime(start, state.LastDelivery).TotalSeconds;
        var deliveries = Math.Max(1, state.Delivered - deliveredBefore);
        var framesPerRead = (double)deliveries / Math.Max(1, state.Reads - readsBefore);
        var node2CpuMs = before2 is null || after2 is null ? 0 : after2.CpuMs - before2.CpuMs;
        return new FloodResult(complete, deliveries, seconds, before, after, allocations, loadCpu, machineCpu, framesPerRead, node2CpuMs, redisBefore, redisAfter);
    }

    private static async Task<ServerStats> StatsAsync(HttpClient control, bool collect, CancellationToken cancellationToken)
    {
        var json = await control.GetFromJsonAsync<JsonElement>(new Uri("/control/stats?collect=" + (collect ? "true" : "false"), UriKind.Relative), cancellationToken);
        return new ServerStats(
            json.GetProperty("store").GetString()!,
            json.GetProperty("publishesInFlight").GetInt32(),
            json.GetProperty("allocatedBytes").GetInt64(),
            json.GetProperty("gen0").GetInt32(),
            json.GetProperty("cpuMs").GetDouble(),
            json.GetProperty("rssBytes").GetInt64(),
            json.GetProperty("managedBytes").GetInt64(),
            json.GetProperty("gcCommittedBytes").GetInt64(),
            json.GetProperty("harnessAllocatedBytes").GetInt64(),
            json.GetProperty("lateEvents").GetInt64(),
            json.GetProperty("threadPoolWorkItems").GetInt64(),
            json.GetProperty("lockContentions").GetInt64(),
            json.GetProperty("threadPoolThreads").GetInt32(),
            json.GetProperty("jittedMethods").GetInt64(),
            json.GetProperty("lateLog").Clone(),
            json.GetProperty("pacedPublishP50Us").GetInt64(),
            json.GetProperty("pacedPublishP99Us").GetInt64(),
            json.GetProperty("pacedPendingWorkItemsP50").GetInt64(),
            json.GetProperty("pacedPendingWorkItemsP99").GetInt64());
    }

    private sealed record FloodResult(
        bool Complete,
        double Deliveries,
        double Seconds,
        ServerStats Before,
        ServerStats After,
        JsonElement Allocations,
        TimeSpan LoadCpu,
        TimeSpan MachineCpu,
        double FramesPerRead,
        double Node2CpuMs,
        RedisInfo? RedisBefore,
        RedisInfo? RedisAfter);

    private sealed record ServerStats(
        string Store,
        int PublishesInFlight,
        long AllocatedBytes,
        int Gen0,
        double CpuMs,
        long RssBytes,
        long ManagedBytes,
        long GcCommittedBytes,
        long HarnessAllocatedBytes,
        long LateEvents,
        long ThreadPoolWorkItems,
        long LockContentions,
        int ThreadPoolThreads,
        long JittedMethods,
        JsonElement LateLog,
        long PacedPublishP50Us,
        long PacedPublishP99Us,
        long PacedPendingWorkItemsP50,
        long PacedPendingWorkItemsP99);
}
