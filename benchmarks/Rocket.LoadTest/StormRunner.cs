using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.LoadTest;

/// <summary>Options of the <c>storm</c> mode.</summary>
internal sealed record StormOptions(Uri Server, int Live, int Storm, int Events, double Rate, int Warmup, int TimeoutSeconds, double SpreadSeconds = 0);

/// <summary>
/// The reconnect storm: <c>Live</c> SSE subscribers receive a paced stream, first quietly, then while <c>Storm</c> other
/// clients reconnect all at once, wave after wave (each opens an SSE stream without a cursor, reads its reset and goes;
/// the next wave starts when the last client of the previous one has its reset), for as long as the paced phase lasts.
/// With <c>SpreadSeconds</c> each client of a wave first waits a delay drawn uniformly from 0 to that many seconds, as
/// browsers do when the server's <c>retry:</c> is spread (3 s ± 50 % spreads them over 3 s) or clients back off with full
/// jitter; 0 is the worst case, every client in the same instant.
/// Prints one JSON line: the live subscribers' latency (from the publish to the delivery) in each phase, the ratio of the
/// p99s, and the storm's waves.
/// </summary>
internal static class StormRunner
{
    public static async Task<int> RunAsync(StormOptions options)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(options.TimeoutSeconds));
        var ct = timeout.Token;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        const string target = "rocket";
        using var control = new HttpClient { BaseAddress = options.Server, Timeout = TimeSpan.FromSeconds(30) };
        await LoadRunner.WaitForSubscribersAsync(control, target, 0, ct);

        var load = new LoadOptions(options.Server, "sse", options.Live, 0, options.Rate, options.Events, options.TimeoutSeconds);
        var state = new RunState(DateTimeOffset.UtcNow.ToUnixTimeSeconds() * 1_000_000);
        var receivers = new List<Receiver>(options.Live);
        using (var gate = new SemaphoreSlim(64))
        {
            var starts = new List<Task>(options.Live);
            for (var i = 0; i < options.Live; i++)
            {
                var receiver = LoadRunner.Create(load, state, options.Server);
                receivers.Add(receiver);
                await gate.WaitAsync(ct);
                starts.Add(LoadRunner.StartAsync(receiver, gate, stop.Token));
            }

            await Task.WhenAll(starts);
        }

        await LoadRunner.WaitForSubscribersAsync(control, target, options.Live, ct);
        long expected = 0;
        var seq = state.SeqBase;

        // Warm-up at the same rate, not recorded: a new stream's first events pay for what it grows once.
        state.Histogram = new LatencyHistogram();
        expected += (long)options.Warmup * options.Live;
        await PacedAsync(control, options.Warmup, options.Rate, seq, state, expected, ct);
        seq += options.Warmup;

        var quiet = new LatencyHistogram();
        state.Histogram = quiet;
        expected += (long)options.Events * options.Live;
        var quietComplete = await PacedAsync(control, options.Events, options.Rate, seq, state, expected, ct);
        seq += options.Events;

        // The storm runs for exactly the paced phase.
        var stormy = new LatencyHistogram();
        state.Histogram = stormy;
        expected += (long)options.Events * options.Live;
        using var stormStop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var storm = StormAsync(new Uri(options.Server, "/" + Payload.Collection), options.Storm, options.SpreadSeconds, stormStop.Token, ct);
        var stormComplete = await PacedAsync(control, options.Events, options.Rate, seq, state, expected, ct);
        await stormStop.CancelAsync();
        var waves = await storm;
        var gaps = state.Gaps;

        await LoadRunner.WaitForSubscribersAsync(control, target, options.Live, ct);
        await stop.CancelAsync();
        foreach (var receiver in receivers)
        {
            await receiver.DisposeAsync();
        }

        var quietP99 = quiet.Percentile(0.99);
        var stormP99 = stormy.Percentile(0.99);
        var result = new Dictionary<string, object?>
        {
            ["mode"] = "storm",
            ["transport"] = "sse",
            ["live"] = options.Live,
            ["stormClients"] = options.Storm,
            ["stormSpreadSeconds"] = options.SpreadSeconds,
            ["rate"] = options.Rate,
            ["events"] = options.Events,
            ["quietComplete"] = quietComplete,
            ["stormComplete"] = stormComplete,
            ["gaps"] = gaps,
            ["quietP50Us"] = quiet.Percentile(0.50),
            ["quietP99Us"] = quietP99,
            ["stormP50Us"] = stormy.Percentile(0.50),
            ["stormP99Us"] = stormP99,
            ["p99Ratio"] = quietP99 > 0 ? Math.Round((double)stormP99 / quietP99, 2) : null,
            ["stormWaves"] = waves.Count,
            ["stormReconnects"] = waves.Sum(static w => w.Completed),
            ["stormFailedConnects"] = waves.Sum(static w => w.Failed),
            ["stormWaveSecondsP50"] = waves.Count == 0 ? null : Math.Round(waves.Select(static w => w.Seconds).Order().ElementAt(waves.Count / 2), 3),
            ["stormWaveSecondsMax"] = waves.Count == 0 ? null : Math.Round(waves.Max(static w => w.Seconds), 3),
            ["resetBytes"] = waves.Count == 0 ? null : waves[0].ResetBytes,
            ["processors"] = Environment.ProcessorCount,
            ["date"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        };
        Console.WriteLine(JsonSerializer.Serialize(result));
        return quietComplete && stormComplete && gaps == 0 ? 0 : 2;
    }

    private static async Task<bool> PacedAsync(HttpClient control, int events, double rate, long seq, RunState state, long expected, CancellationToken ct)
    {
        await LoadRunner.PublishAsync(control, "rocket", events, rate, seq, CancellationToken.None);
        return await LoadRunner.WaitForDeliveriesAsync(state, expected, ct);
    }

    private sealed record Wave(int Completed, int Failed, double Seconds, long ResetBytes);

    // Waves until `stop`: all clients connect at once, each reads its reset and closes.
    private static async Task<List<Wave>> StormAsync(Uri url, int clients, double spreadSeconds, CancellationToken stop, CancellationToken deadline)
    {
        var waves = new List<Wave>();
        var request = Encoding.ASCII.GetBytes($"GET {url.PathAndQuery} HTTP/1.1\r\nHost: {url.Authority}\r\nAccept: text/event-stream\r\n\r\n");
        var endPoint = new IPEndPoint(IPAddress.Parse(url.Host), url.Port);
        while (!stop.IsCancellationRequested)
        {
            var start = Stopwatch.GetTimestamp();
            var results = await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => OneAsync(endPoint, request, spreadSeconds, deadline)));
            waves.Add(new Wave(
                results.Count(static r => r >= 0),
                results.Count(static r => r < 0),
                Stopwatch.GetElapsedTime(start).TotalSeconds,
                results.FirstOrDefault(static r => r >= 0)));
        }

        return waves;
    }

    // Connects, reads until the end of the first `patch` event (the reset, as no cursor is given), closes. The bytes
    // read, or -1 when the connection failed.
    private static async Task<long> OneAsync(IPEndPoint endPoint, byte[] request, double spreadSeconds, CancellationToken cancellationToken)
    {
        if (spreadSeconds > 0)
        {
#pragma warning disable CA5394 // a spread, not a secret
            await Task.Delay(TimeSpan.FromSeconds(spreadSeconds * Random.Shared.NextDouble()), cancellationToken);
#pragma warning restore CA5394
        }

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endPoint, cancellationToken);
            await socket.SendAsync(request, SocketFlags.None, cancellationToken);
            var buffer = new byte[64 * 1024];
            var seen = new List<byte>();
            long total = 0;
            var patchAt = -1;
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
                if (read == 0)
                {
                    return -1;
                }

                total += read;
                seen.AddRange(buffer.AsSpan(0, read));
                var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(seen);
                if (patchAt < 0)
                {
                    patchAt = span.IndexOf("event: patch\n"u8);
                }

                if (patchAt >= 0 && span[patchAt..].IndexOf("\n\n"u8) >= 0)
                {
                    return total;
                }
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return -1;
        }
    }
}
