using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.Stress;

/// <summary>One scenario's outcome: what it checks, its figures, and whether the check held.</summary>
internal sealed record ScenarioResult(string Scenario, string Check, bool Pass, string Figures, Dictionary<string, object> Values);

/// <summary>The scenarios. Each starts its own server process, so none inherits another's memory or connections.</summary>
internal static class Scenarios
{
    private const double MiB = 1024 * 1024;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    /// <summary>
    /// Reset storm: <paramref name="subscribers"/> clients of one transport connect at once to a collection of
    /// <paramref name="mib"/> MiB and each reads its whole reset; all stay connected until the last has it. Checks that
    /// every client got the whole reset (its length and last bytes equal a lone client's) and that the server's peak
    /// resident memory grew by at most <paramref name="budgetMiB"/> per subscriber.
    /// </summary>
    public static async Task<ScenarioResult> ResetStormAsync(string transport, int subscribers, int mib, double budgetMiB)
    {
        await using var server = await ServerProcess.StartAsync();
        const int recordBytes = 2000;
        var records = (int)(mib * MiB / recordBytes);
        await server.PostAsync($"control/fill?records={records}&bytes={recordBytes}");

        // A lone client first: the reset every later one must match; it also has the collection encode the reset.
        StreamMessage reference;
        await using (var lone = await StreamClient.ConnectAsync(transport, server.Port, null, CancellationToken.None))
        {
            reference = await lone.NextAsync(CancellationToken.None) ?? throw new InvalidOperationException("no reset");
        }

        await server.WaitForSubscribersAsync(n => n == 0, Patience);
        var before = await server.StatsAsync(collect: true);
        var rssBefore = server.Rss;
        server.ResetPeak();

        var clock = Stopwatch.StartNew();
        var clients = new StreamClient?[subscribers];
        var received = new StreamMessage?[subscribers];
        var failures = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        await Task.WhenAll(Enumerable.Range(0, subscribers).Select(i => Task.Run(async () =>
        {
            try
            {
                clients[i] = await StreamClient.ConnectAsync(transport, server.Port, null, timeout.Token);
                received[i] = await clients[i]!.NextAsync(timeout.Token);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Interlocked.Increment(ref failures);
                Console.Error.WriteLine($"reset storm client {i}: {e.GetType().Name}: {e.Message}");
            }
        })));
        var seconds = clock.Elapsed.TotalSeconds;
        var peak = server.PeakRss;
        foreach (var client in clients)
        {
            if (client is not null)
            {
                await client.DisposeAsync();
            }
        }

        var whole = received.Count(m => m is { IsClose: false, Reset: true } r && r.Length == reference.Length && r.Tail == reference.Tail);
        var perSubscriber = (peak - rssBefore) / MiB / subscribers;
        var pass = whole == subscribers && perSubscriber <= budgetMiB;
        var figures = string.Create(CultureInfo.InvariantCulture,
            $"{whole}/{subscribers} got the whole {reference.Length / MiB:F1} MiB reset in {seconds:F1} s; server RSS {rssBefore / MiB:F0} MiB before, peak {peak / MiB:F0} MiB: {perSubscriber:F2} MiB per subscriber (managed heap {before.Heap / MiB:F0} MiB before)");
        return new ScenarioResult($"reset storm ({transport}, {subscribers} x {mib} MiB)", $"all get the whole reset; peak added <= {budgetMiB:F0} MiB per subscriber", pass, figures, new()
        {
            ["transport"] = transport, ["subscribers"] = subscribers, ["collectionMiB"] = mib, ["resetBytes"] = reference.Length, ["whole"] = whole,
            ["failures"] = failures, ["seconds"] = seconds, ["rssBefore"] = rssBefore, ["peakRss"] = peak, ["perSubscriberMiB"] = perSubscriber, ["heapBefore"] = before.Heap,
        });
    }

    /// <summary>
    /// Connect/abort cycles mixed over the three transports, <paramref name="concurrency"/> at a time: each connects, reads
    /// its reset, and drops the connection. Checks that the collection's subscriber count returns to 0 and that the managed
    /// heap after a full collection is within 5 % of what it was after a warm-up.
    /// </summary>
    public static async Task<ScenarioResult> ChurnAsync(int cycles, int concurrency)
    {
        await using var server = await ServerProcess.StartAsync();
        await server.PostAsync("control/fill?records=20&bytes=200");
        var warmUp = Math.Min(3000, Math.Max(300, cycles / 20));
        await CyclesAsync(server.Port, warmUp, concurrency);
        await server.WaitForSubscribersAsync(n => n == 0, Patience);
        var before = await server.StatsAsync(collect: true);

        var clock = Stopwatch.StartNew();
        var (done, failed) = await CyclesAsync(server.Port, cycles, concurrency);
        var seconds = clock.Elapsed.TotalSeconds;
        var drained = await server.WaitForSubscribersAsync(n => n == 0, Patience);
        var after = await server.StatsAsync(collect: true);
        var growth = (after.Heap - before.Heap) / (double)before.Heap;
        var pass = drained && after.Subscribers == 0 && Math.Abs(growth) <= 0.05 && failed == 0;
        var perMinute = done / seconds * 60;
        var figures = string.Create(CultureInfo.InvariantCulture,
            $"{done:N0} cycles ({failed} failed) in {seconds:F1} s: {perMinute:N0} a minute; subscribers after: {after.Subscribers}; managed heap after full GC {before.Heap / MiB:F1} -> {after.Heap / MiB:F1} MiB ({growth:+0.0%;-0.0%}); RSS {after.Rss / MiB:F0} MiB");
        return new ScenarioResult($"connect/abort churn ({cycles:N0}, sse/websocket/signalr)", "subscribers back to 0; heap after full GC within 5 %", pass, figures, new()
        {
            ["cycles"] = done, ["failed"] = failed, ["seconds"] = seconds, ["perMinute"] = perMinute, ["subscribersAfter"] = after.Subscribers,
            ["heapBefore"] = before.Heap, ["heapAfter"] = after.Heap, ["rssAfter"] = after.Rss,
        });
    }

    private static async Task<(int Done, int Failed)> CyclesAsync(int port, int cycles, int concurrency)
    {
        var next = -1;
        var done = 0;
        var failed = 0;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < cycles)
            {
                var transport = StreamClient.Transports[i % 3];
                try
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                    var client = await StreamClient.ConnectAsync(transport, port, null, timeout.Token);
                    var first = await client.NextAsync(timeout.Token);
                    client.Abort();
                    await client.DisposeAsync();
                    if (first is not { Reset: true })
                    {
                        throw new InvalidOperationException("no reset");
                    }

                    Interlocked.Increment(ref done);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    if (Interlocked.Increment(ref failed) <= 5)
                    {
                        Console.Error.WriteLine($"churn {transport}: {e.GetType().Name}: {e.Message}");
                    }
                }
            }
        })));
        return (done, failed);
    }

    /// <summary>
    /// One stalled subscriber among many: <paramref name="subscribers"/> SSE subscribers read a steady stream; the same
    /// run is made again with one more that connects and never reads. Checks that the others' delivered rate with the
    /// stalled one is at least 0.9x the rate without it, that the stalled one is closed by the server, and that what the
    /// server holds for it stays within its queue's bound.
    /// </summary>
    public static async Task<ScenarioResult> StalledAsync(int subscribers, double rate, int seconds)
    {
        var without = await StreamPhaseAsync(subscribers, rate, seconds, stalled: false);
        var with = await StreamPhaseAsync(subscribers, rate, seconds, stalled: true);
        var ratio = with.Rate / without.Rate;
        var pass = ratio >= 0.9 && with.StalledClosed && with.Gaps == 0 && without.Gaps == 0 && with.RssPeak - without.RssPeak <= 64 * MiB;
        var figures = string.Create(CultureInfo.InvariantCulture,
            $"{subscribers} readers at {rate:N0} events/s (500 B) for {seconds} s: {without.Rate:N0} deliveries/s alone, {with.Rate:N0} with a stalled one ({ratio:F2}x); stalled one closed: {with.StalledClosed}; gaps {without.Gaps + with.Gaps}; server peak RSS {without.RssPeak / MiB:F0} -> {with.RssPeak / MiB:F0} MiB");
        return new ScenarioResult($"stalled subscriber (1 among {subscribers + 1}, sse)", "others >= 0.9x; stalled one closed; memory bounded", pass, figures, new()
        {
            ["subscribers"] = subscribers, ["rate"] = rate, ["seconds"] = seconds, ["rateWithout"] = without.Rate, ["rateWith"] = with.Rate, ["ratio"] = ratio,
            ["stalledClosed"] = with.StalledClosed, ["gaps"] = without.Gaps + with.Gaps, ["rssPeakWithout"] = without.RssPeak, ["rssPeakWith"] = with.RssPeak,
        });
    }

    private static async Task<(double Rate, bool StalledClosed, long Gaps, long RssPeak)> StreamPhaseAsync(int subscribers, double rate, int seconds, bool stalled)
    {
        // Events of about 500 bytes, and a 64 KiB socket send buffer (the kernel would otherwise let a loopback connection
        // buffer 4 MiB): the stalled one's queue then fills within the run, in both runs alike.
        const int pad = 400;
        await using var server = await ServerProcess.StartAsync(sendBuffer: 64 * 1024);
        var clients = new StreamClient[subscribers];
        for (var i = 0; i < subscribers; i += 50)
        {
            await Task.WhenAll(Enumerable.Range(i, Math.Min(50, subscribers - i)).Select(async j => clients[j] = await StreamClient.ConnectAsync("sse", server.Port, null, CancellationToken.None)));
        }

        // The stalled one never reads, with a small receive buffer so the kernel does not soak up what it is sent.
        Socket? stuck = null;
        if (stalled)
        {
            stuck = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
            await stuck.ConnectAsync(IPAddress.Loopback, server.Port);
            await stuck.SendAsync(Encoding.ASCII.GetBytes($"GET /{StressServer.Collection} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"));
        }

        await server.WaitForSubscribersAsync(n => n == subscribers + (stalled ? 1 : 0), Patience);
        server.ResetPeak();
        long delivered = 0;
        long gaps = 0;
        var startSeq = -1L;
        using var stop = new CancellationTokenSource();
        var readers = clients.Select(c => Task.Run(async () =>
        {
            var last = -1L;
            try
            {
                while (await c.NextAsync(stop.Token) is { IsClose: false } m)
                {
                    if (last >= 0 && m.Seq != last + 1)
                    {
                        Interlocked.Increment(ref gaps);
                    }

                    last = m.Seq;
                    if (!m.Reset && Interlocked.Read(ref startSeq) >= 0 && m.Seq > Interlocked.Read(ref startSeq))
                    {
                        Interlocked.Increment(ref delivered);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        })).ToArray();

        var begin = (await server.StatsAsync(collect: false)).Cursor;
        Interlocked.Exchange(ref startSeq, long.Parse(begin[(begin.IndexOf('.', StringComparison.Ordinal) + 1)..], CultureInfo.InvariantCulture));
        var clock = Stopwatch.StartNew();
        await server.PostAsync(string.Create(CultureInfo.InvariantCulture, $"control/publish?rate={rate}&pad={pad}"));
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        await server.PostAsync("control/stop");
        var published = (await server.StatsAsync(collect: false)).Cursor;
        var endSeq = long.Parse(published[(published.IndexOf('.', StringComparison.Ordinal) + 1)..], CultureInfo.InvariantCulture);

        // Every reader should end with every event: wait (bounded) for the count, then stop them.
        var expected = (endSeq - startSeq) * subscribers;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (Interlocked.Read(ref delivered) < expected && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        var elapsed = clock.Elapsed.TotalSeconds;
        var peak = server.PeakRss;
        var stalledClosed = false;
        if (stuck is not null)
        {
            // Read now: what the server sent before it dropped it, then the end of the connection.
            using var read = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var buffer = new byte[64 * 1024];
            try
            {
                while (await stuck.ReceiveAsync(buffer, SocketFlags.None, read.Token) > 0)
                {
                }

                stalledClosed = true;
            }
            catch (SocketException)
            {
                stalledClosed = true; // reset by the server
            }
            catch (OperationCanceledException)
            {
            }

            stuck.Dispose();
        }

        await stop.CancelAsync();
        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }

        await Task.WhenAll(readers);
        return (Interlocked.Read(ref delivered) / elapsed, stalledClosed, gaps + (Interlocked.Read(ref delivered) < expected ? 1 : 0), peak);
    }

    /// <summary>
    /// Reconnect storm: clients mixed over the transports follow a steady stream; every connection is dropped by the
    /// server at once, twice, while publishing goes on; each client reconnects with its last cursor after a random
    /// delay. Checks that every client ends with every event exactly once: no gap, no duplicate, no reset after resume.
    /// </summary>
    public static async Task<ScenarioResult> ReconnectStormAsync(int clientsCount, double rate, int seconds)
    {
        await using var server = await ServerProcess.StartAsync();
        long gaps = 0, duplicates = 0, resets = 0, reconnects = 0, failures = 0;
        var lastSeq = new long[clientsCount];
        using var stop = new CancellationTokenSource();
        var finalSeq = long.MaxValue;
        var tasks = Enumerable.Range(0, clientsCount).Select(i => Task.Run(async () =>
        {
            var transport = StreamClient.Transports[i % 3];
            string? cursor = null;
            var last = -1L;
            var random = new Random(i);
            while (!stop.IsCancellationRequested && last < Interlocked.Read(ref finalSeq))
            {
                StreamClient? client = null;
                try
                {
                    client = await StreamClient.ConnectAsync(transport, server.Port, cursor, stop.Token);
                    while (await client.NextAsync(stop.Token) is { IsClose: false } m)
                    {
                        if (m.Reset)
                        {
                            if (cursor is not null)
                            {
                                Interlocked.Increment(ref resets);
                            }
                        }
                        else if (m.Seq <= last)
                        {
                            Interlocked.Increment(ref duplicates);
                        }
                        else if (last >= 0 && m.Seq != last + 1)
                        {
                            Interlocked.Increment(ref gaps);
                        }

                        last = Math.Max(last, m.Seq);
                        cursor = m.Cursor;
                        Volatile.Write(ref lastSeq[i], last);
                        if (last >= Interlocked.Read(ref finalSeq))
                        {
                            break;
                        }
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    Interlocked.Increment(ref failures);
                }
                finally
                {
                    if (client is not null)
                    {
                        await client.DisposeAsync();
                    }
                }

                if (last < Interlocked.Read(ref finalSeq) && !stop.IsCancellationRequested)
                {
                    // Reconnect after a random delay of up to a second, as clients with full jitter do.
                    Interlocked.Increment(ref reconnects);
                    await Task.Delay(random.Next(0, 1000));
                }
            }
        })).ToArray();

        await server.WaitForSubscribersAsync(n => n >= clientsCount, Patience);
        await server.PostAsync(string.Create(CultureInfo.InvariantCulture, $"control/publish?rate={rate}"));
        var kicked = 0;
        for (var k = 0; k < 2; k++)
        {
            await Task.Delay(TimeSpan.FromSeconds(seconds / 3.0));
            kicked += (await server.PostAsync("control/kick")).GetProperty("kicked").GetInt32();
        }

        await Task.Delay(TimeSpan.FromSeconds(seconds / 3.0));
        var stopped = await server.PostAsync("control/stop");
        var end = stopped.GetProperty("cursor").GetString()!;
        Interlocked.Exchange(ref finalSeq, long.Parse(end[(end.IndexOf('.', StringComparison.Ordinal) + 1)..], CultureInfo.InvariantCulture));

        // Every client should reach the last event; a client that does not within the time counts as a gap.
        var all = Task.WhenAll(tasks);
        if (await Task.WhenAny(all, Task.Delay(Patience)) != all)
        {
            await stop.CancelAsync();
        }

        await all;
        var behind = lastSeq.Count(s => s < Interlocked.Read(ref finalSeq));
        var pass = gaps == 0 && duplicates == 0 && resets == 0 && behind == 0;
        var figures = string.Create(CultureInfo.InvariantCulture,
            $"{clientsCount} clients, {rate:N0} events/s for {seconds} s, all dropped twice ({kicked} connections kicked): {reconnects} reconnects ({failures} drops seen as a socket error rather than an end of stream); gaps {gaps}, duplicates {duplicates}, resets after resume {resets}, clients short of the last event {behind}");
        return new ScenarioResult($"reconnect storm ({clientsCount}, sse/websocket/signalr)", "zero gaps, zero duplicates after resume", pass, figures, new()
        {
            ["clients"] = clientsCount, ["rate"] = rate, ["seconds"] = seconds, ["kicked"] = kicked, ["reconnects"] = reconnects, ["failedAttempts"] = failures,
            ["gaps"] = gaps, ["duplicates"] = duplicates, ["resets"] = resets, ["behind"] = behind,
        });
    }

    /// <summary>
    /// Shutdown under load: clients mixed over the transports follow a steady stream when the server gets SIGTERM. Checks
    /// that the process exits within its shutdown timeout (10 s) and that every client is told (a close message with
    /// <c>ShuttingDown</c>, WebSocket close 1001, or the SignalR close) rather than cut off.
    /// </summary>
    public static async Task<ScenarioResult> ShutdownAsync(int clientsCount, double rate)
    {
        await using var server = await ServerProcess.StartAsync();
        var clients = new StreamClient[clientsCount];
        for (var i = 0; i < clientsCount; i += 50)
        {
            await Task.WhenAll(Enumerable.Range(i, Math.Min(50, clientsCount - i)).Select(async j => clients[j] = await StreamClient.ConnectAsync(StreamClient.Transports[j % 3], server.Port, null, CancellationToken.None)));
        }

        await server.WaitForSubscribersAsync(n => n == clientsCount, Patience);
        var told = new ConcurrentDictionary<string, int>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var readers = clients.Select(c => Task.Run(async () =>
        {
            string outcome;
            try
            {
                StreamMessage? m;
                while ((m = await c.NextAsync(stop.Token)) is { IsClose: false })
                {
                }

                outcome = m is { } close ? $"{c.Transport}: {close.CloseStatus}" : $"{c.Transport}: cut off";
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                outcome = $"{c.Transport}: {e.GetType().Name}";
            }

            told.AddOrUpdate(outcome, 1, (_, n) => n + 1);
        })).ToArray();

        await server.PostAsync(string.Create(CultureInfo.InvariantCulture, $"control/publish?rate={rate}"));
        await Task.Delay(TimeSpan.FromSeconds(2));
        var clock = Stopwatch.StartNew();
        server.Terminate();
        using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var exited = true;
        try
        {
            await server.WaitForExitAsync(exit.Token);
        }
        catch (OperationCanceledException)
        {
            exited = false;
        }

        var exitSeconds = clock.Elapsed.TotalSeconds;
        await Task.WhenAll(readers);
        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }

        var toldCount = told.Where(kv => kv.Key.EndsWith("ShuttingDown", StringComparison.Ordinal) || kv.Key.EndsWith(": 1001", StringComparison.Ordinal) || kv.Key.StartsWith("signalr: ", StringComparison.Ordinal) && !kv.Key.EndsWith("cut off", StringComparison.Ordinal) && !kv.Key.EndsWith("Exception", StringComparison.Ordinal)).Sum(kv => kv.Value);
        var pass = exited && exitSeconds <= 10.5 && toldCount == clientsCount;
        var outcomes = string.Join(", ", told.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} x{kv.Value}"));
        var figures = string.Create(CultureInfo.InvariantCulture,
            $"{clientsCount} clients at {rate:N0} events/s; exited {exitSeconds:F1} s after SIGTERM; told {toldCount}/{clientsCount} ({outcomes})");
        return new ScenarioResult($"shutdown under load ({clientsCount}, sse/websocket/signalr)", "exit within the 10 s shutdown timeout; every client told", pass, figures, new()
        {
            ["clients"] = clientsCount, ["rate"] = rate, ["exitSeconds"] = exitSeconds, ["exited"] = exited, ["told"] = toldCount, ["outcomes"] = outcomes,
        });
    }

    /// <summary>
    /// Soak: subscribers mixed over the transports follow a steady stream for <paramref name="minutes"/>; the server's
    /// managed heap (after a full collection) and resident memory are sampled every 10 s. Checks that memory plateaus
    /// (the second half's highest heap is within 10 % plus 2 MiB of the first half's) and that every subscriber got every event.
    /// </summary>
    public static async Task<ScenarioResult> SoakAsync(int subscribers, double rate, double minutes)
    {
        await using var server = await ServerProcess.StartAsync();
        var clients = new StreamClient[subscribers];
        for (var i = 0; i < subscribers; i += 50)
        {
            await Task.WhenAll(Enumerable.Range(i, Math.Min(50, subscribers - i)).Select(async j => clients[j] = await StreamClient.ConnectAsync(StreamClient.Transports[j % 3], server.Port, null, CancellationToken.None)));
        }

        await server.WaitForSubscribersAsync(n => n == subscribers, Patience);
        long gaps = 0;
        var lastSeq = new long[subscribers];
        using var stop = new CancellationTokenSource();
        var readers = Enumerable.Range(0, subscribers).Select(i => Task.Run(async () =>
        {
            var last = -1L;
            try
            {
                while (await clients[i].NextAsync(stop.Token) is { IsClose: false } m)
                {
                    if (last >= 0 && m.Seq != last + 1)
                    {
                        Interlocked.Increment(ref gaps);
                    }

                    last = m.Seq;
                    Volatile.Write(ref lastSeq[i], last);
                }
            }
            catch (OperationCanceledException)
            {
            }
        })).ToArray();

        await server.PostAsync(string.Create(CultureInfo.InvariantCulture, $"control/publish?rate={rate}"));
        var samples = new List<(double Seconds, long Heap, long Rss)>();
        var clock = Stopwatch.StartNew();
        var length = TimeSpan.FromMinutes(minutes);
        while (clock.Elapsed < length)
        {
            await Task.Delay(TimeSpan.FromSeconds(Math.Min(10, Math.Max(0.1, (length - clock.Elapsed).TotalSeconds))));
            var stats = await server.StatsAsync(collect: true);
            samples.Add((clock.Elapsed.TotalSeconds, stats.Heap, server.Rss));
        }

        var stopped = await server.PostAsync("control/stop");
        var end = stopped.GetProperty("cursor").GetString()!;
        var endSeq = long.Parse(end[(end.IndexOf('.', StringComparison.Ordinal) + 1)..], CultureInfo.InvariantCulture);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (lastSeq.Any(s => Volatile.Read(ref s) < endSeq) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        var behind = lastSeq.Count(s => s < endSeq);
        await stop.CancelAsync();
        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }

        await Task.WhenAll(readers);
        var half = samples.Count / 2;
        var firstMax = samples.Take(Math.Max(1, half)).Max(s => s.Heap);
        var secondMax = samples.Skip(half).Max(s => s.Heap);
        var plateau = secondMax <= (firstMax * 1.10) + (2 * MiB);
        var pass = plateau && gaps == 0 && behind == 0;
        var figures = string.Create(CultureInfo.InvariantCulture,
            $"{subscribers} subscribers at {rate:N0} events/s for {minutes:F1} min ({endSeq:N0} events): heap after full GC, highest {firstMax / MiB:F1} MiB in the first half, {secondMax / MiB:F1} MiB in the second; RSS {samples[0].Rss / MiB:F0} -> {samples[^1].Rss / MiB:F0} MiB; gaps {gaps}, subscribers short of the last event {behind}");
        return new ScenarioResult($"soak ({subscribers}, {minutes:F1} min)", "heap plateaus (second half within 10 % + 2 MiB); every event delivered", pass, figures, new()
        {
            ["subscribers"] = subscribers, ["rate"] = rate, ["minutes"] = minutes, ["events"] = endSeq, ["heapFirstHalfMax"] = firstMax, ["heapSecondHalfMax"] = secondMax,
            ["samples"] = samples.Select(s => new[] { s.Seconds, s.Heap, s.Rss }).ToArray(), ["gaps"] = gaps, ["behind"] = behind,
        });
    }
}
