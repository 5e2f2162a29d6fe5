using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;

namespace Rocket.LoadTest;

/// <summary>
/// <c>report results.jsonl [--charts DIR]</c>: the medians (and min–max over repetitions) per transport and N as a
/// Markdown table, and SVG charts of throughput and paced p99 against subscribers, generated from the JSON lines. Runs
/// on Redis (<c>mode</c> redis, redis2) are rows of their own, compared with the same transport in memory in a
/// scale-out table; REST write runs (<c>kind</c> writes) get a table of their own.
/// </summary>
internal static class Report
{
    private static readonly string[] Order = ["sse", "sse-guarded", "websocket", "signalr", "signalr-messagepack", "baseline-sse", "baseline-signalr", "raw"];
    private static readonly string[] Colors = ["#d62728", "#1f77b4", "#2ca02c", "#17becf", "#ff7f0e", "#9467bd", "#7f7f7f"];
    private static readonly string[] Modes = ["memory", "redis", "redis2"];

    public static int Run(string path, string? chartDirectory)
    {
        var lines = File.ReadLines(path)
            .Where(static l => l.Length > 0)
            .Select(static l => JsonDocument.Parse(l).RootElement.Clone())
            .ToList();
        var writes = lines.Where(static r => Kind(r) == "writes").ToList();
        var runs = lines.Where(static r => Kind(r) != "writes").ToList();
        // A transport on Redis is a row of its own, "sse (redis)"; in memory it keeps its plain name.
        var groups = runs
            .GroupBy(static r => (Transport: Label(r), N: r.GetProperty("subscribers").GetInt32()))
            .OrderBy(static g => g.Key.N)
            .ThenBy(static g => Array.IndexOf(Order, g.First().GetProperty("transport").GetString()))
            .ThenBy(static g => Array.IndexOf(Modes, Mode(g.First())))
            .ToList();

        var table = new StringBuilder();
        // Whether the kernel's DAMON monitors ran (machineDamon; older result files do not record it): they hold up a
        // paced event now and then (run-load.sh's PAUSE_DAMON).
        var damon = runs
            .GroupBy(static r => r.TryGetProperty("machineDamon", out var d) ? d.GetString()! : "not recorded")
            .Select(static d => string.Create(CultureInfo.InvariantCulture, $"{d.Key} in {d.Count()}"));
        table.AppendLine(CultureInfo.InvariantCulture, $"kdamond (DAMON) during the runs: {string.Join(", ", damon)}.");
        table.AppendLine();
        table.AppendLine("| N | transport | runs ok | delivered/s: median (min–max) | paced p50 µs | paced p99 µs: median (min–max) | paced p50 from due µs | paced p99 from due µs: median (min–max) | flood p99 ms | server alloc B/delivery | server gen-0 per 10⁶ deliveries | server CPU ns/delivery | load CPU ns/delivery | idle RSS/connection | idle managed/connection |");
        table.AppendLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var g in groups)
        {
            var ok = g.Where(static r => Bool(r, "floodComplete") && Num(r, "gaps") == 0).ToList();
            table.Append(CultureInfo.InvariantCulture, $"| {g.Key.N:N0} | {g.Key.Transport} | {ok.Count}/{g.Count()} ");
            // Older result files have no latency from the due time (pacedDueP50Us, pacedDueP99Us); they show "–".
            var due = ok.Where(static r => r.TryGetProperty("pacedDueP99Us", out _)).ToList();
            var dueP50 = due.Count == 0 ? "–" : Median(due, "pacedDueP50Us").ToString("N0", CultureInfo.InvariantCulture);
            table.Append(CultureInfo.InvariantCulture, $"| {Spread(ok, "deliveriesPerSecond", 1)} | {Median(ok, "p50Us"):N0} | {Spread(ok, "p99Us", 1)} ");
            table.Append(CultureInfo.InvariantCulture, $"| {dueP50} | {Spread(due, "pacedDueP99Us", 1)} ");
            table.Append(CultureInfo.InvariantCulture, $"| {Median(ok, "floodP99Us") / 1000:N0} | {Median(ok, "serverAllocatedBytesPerDelivery"):N1} ");
            table.Append(CultureInfo.InvariantCulture, $"| {Median(ok, "serverGen0PerMillionDeliveries"):N0} | {Median(ok, "serverCpuNsPerDelivery"):N0} | {Median(ok, "loadCpuNsPerDelivery"):N0} ");
            table.AppendLine(CultureInfo.InvariantCulture, $"| {PerConnection(g.Key.N, ok, "idleRssBytesPerConnection")} | {PerConnection(g.Key.N, ok, "idleManagedBytesPerConnection")} |");
        }

        Console.Write(table.ToString());
        Console.Write(Allocations(groups));
        Console.Write(Paced(groups));
        Console.Write(ScaleOut(runs));
        Console.Write(Writes(writes));

        if (chartDirectory is not null)
        {
            Directory.CreateDirectory(chartDirectory);
            // The charts compare transports, in memory.
            var ok = runs.Where(static r => Bool(r, "floodComplete") && Num(r, "gaps") == 0 && Mode(r) == "memory").ToList();
            File.WriteAllText(Path.Combine(chartDirectory, "load-throughput.svg"), Chart(ok, "deliveriesPerSecond", "delivered events per second (flood, median)"));
            File.WriteAllText(Path.Combine(chartDirectory, "load-p99.svg"), Chart(ok, "p99Us", "p99 latency µs at the paced rate (median)"));
        }

        return 0;
    }

    // Runs that carry the server's allocation window (AllocationSampler): what the flood allocated per delivery, the share
    // of Kestrel's pool growth, and the three types sampled most (mean over the group's complete runs).
    private static string Allocations(List<IGrouping<(string Transport, int N), JsonElement>> groups)
    {
        var table = new StringBuilder();
        foreach (var g in groups)
        {
            var ok = g.Where(static r => Bool(r, "floodComplete") && Num(r, "gaps") == 0 && r.TryGetProperty("allocationTop", out _)).ToList();
            if (ok.Count == 0)
            {
                continue;
            }

            if (table.Length == 0)
            {
                table.AppendLine();
                table.AppendLine("| N | transport | runs | flood alloc B/delivery (sampled) | Kestrel pool growth B/delivery | top sampled types, B/delivery | second flood, warm connections: alloc B/delivery (sampled) | its pool growth | its top sampled types |");
                table.AppendLine("|---:|---|---:|---:|---:|---|---:|---:|---|");
            }

            var warm = ok.Where(static r => r.TryGetProperty("warmFloodAllocationTop", out _) && Bool(r, "warmFloodComplete")).ToList();
            table.Append(CultureInfo.InvariantCulture, $"| {g.Key.N:N0} | {g.Key.Transport} | {ok.Count} | {Median(ok, "windowSampledBytesPerDelivery"):N1} ");
            table.Append(CultureInfo.InvariantCulture, $"| {Median(ok, "kestrelPoolAllocatedBytesPerDelivery"):N1} | {Top(ok, "allocationTop")} ");
            table.AppendLine(warm.Count == 0
                ? "| – | – | – |"
                : string.Create(CultureInfo.InvariantCulture, $"| {Median(warm, "warmFloodWindowSampledBytesPerDelivery"):N1} | {Median(warm, "warmFloodKestrelPoolAllocatedBytesPerDelivery"):N1} | {Top(warm, "warmFloodAllocationTop")} |"));
        }

        return table.ToString();
    }

    // The paced phase as a steady state: what the server allocated per delivery while every subscriber kept up (the
    // harness's own allocations taken out), from runs that carry it (older result files do not); beside it the
    // warm-up before it at the same rate, where recorded, the stream's first events.
    private static string Paced(List<IGrouping<(string Transport, int N), JsonElement>> groups)
    {
        var table = new StringBuilder();
        foreach (var g in groups)
        {
            var ok = g.Where(static r => Bool(r, "pacedComplete") && Num(r, "gaps") == 0 && r.TryGetProperty("pacedServerAllocatedBytesPerDelivery", out _)).ToList();
            if (ok.Count == 0)
            {
                continue;
            }

            if (table.Length == 0)
            {
                table.AppendLine();
                table.AppendLine("| N | transport | runs | paced: server alloc B/delivery, median (min–max) | warm-up before it: B/delivery | harness B/delivery (taken out) | server CPU ns/delivery | events sent late, by run | top sampled types, B/delivery |");
                table.AppendLine("|---:|---|---:|---:|---:|---:|---:|---:|---|");
            }

            var values = ok.Select(static r => Num(r, "pacedServerAllocatedBytesPerDelivery")).ToList();
            var warmups = ok.Where(static r => r.TryGetProperty("pacedWarmupServerAllocatedBytesPerDelivery", out _)).ToList();
            var warmup = warmups.Count == 0 ? "n/a" : Median(warmups, "pacedWarmupServerAllocatedBytesPerDelivery").ToString("N2", CultureInfo.InvariantCulture);
            table.Append(CultureInfo.InvariantCulture, $"| {g.Key.N:N0} | {g.Key.Transport} | {ok.Count} | {Median(values):N2} ({values.Min():N2}–{values.Max():N2}) ");
            // Of the phase's events, how many the publisher sent more than 1 ms after they were due (BenchServer).
            var late = string.Join(", ", ok.Select(static r => r.TryGetProperty("pacedLateEvents", out var l) ? l.GetInt64().ToString(CultureInfo.InvariantCulture) : "–"));
            table.AppendLine(CultureInfo.InvariantCulture, $"| {warmup} | {Median(ok, "pacedHarnessAllocatedBytesPerDelivery"):N2} | {Median(ok, "pacedServerCpuNsPerDelivery"):N0} | {late} | {Top(ok, "pacedAllocationTop")} |");
        }

        return table.ToString();
    }

    // Each Rocket transport on Redis against itself in memory, at each N: throughput, the paced latency (with two nodes, on
    // each node apart), what the Redis hop adds to the median (the medians' difference), the CPU of every node per
    // delivery, and Redis's own work per event.
    private static string ScaleOut(List<JsonElement> runs)
    {
        if (!runs.Any(static r => Mode(r) != "memory"))
        {
            return string.Empty;
        }

        var table = new StringBuilder();
        table.AppendLine();
        table.AppendLine("| N | transport | mode | runs ok | delivered/s: median (min–max) | paced p50 µs: median (min–max) | paced p99 µs: median (min–max) | p50 added vs memory µs | publish (commit) p50 / p99 µs | thread-pool queue at send p50 / p99 | publishing node p50 / p99 µs | other node p50 / p99 µs | servers' CPU ns/delivery (flood) | frames per read (flood) | Redis CPU µs/event (paced / flood) | Redis script µs/event | log reads (XRANGE)/event |");
        table.AppendLine("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var groups = runs
            .Where(static r => r.TryGetProperty("transport", out _))
            .GroupBy(static r => (N: r.GetProperty("subscribers").GetInt32(), Transport: r.GetProperty("transport").GetString()!, Mode: Mode(r)))
            .Where(g => runs.Any(r => Mode(r) != "memory" && r.GetProperty("transport").GetString() == g.Key.Transport))
            .OrderBy(static g => g.Key.N)
            .ThenBy(static g => Array.IndexOf(Order, g.Key.Transport))
            .ThenBy(static g => Array.IndexOf(Modes, g.Key.Mode))
            .ToList();
        foreach (var g in groups)
        {
            var ok = g.Where(static r => Bool(r, "floodComplete") && Bool(r, "pacedComplete") && Num(r, "gaps") == 0).ToList();
            var memory = groups.FirstOrDefault(m => m.Key.Mode == "memory" && m.Key.N == g.Key.N && m.Key.Transport == g.Key.Transport)?
                .Where(static r => Bool(r, "floodComplete") && Bool(r, "pacedComplete") && Num(r, "gaps") == 0).ToList();
            var added = g.Key.Mode == "memory" || memory is null || memory.Count == 0 || ok.Count == 0
                ? "–"
                : (Median(ok, "p50Us") - Median(memory, "p50Us")).ToString("+#,0;-#,0;0", CultureInfo.InvariantCulture);
            var byNode = ok.Where(static r => r.TryGetProperty("node1P50Us", out _)).ToList();
            table.Append(CultureInfo.InvariantCulture, $"| {g.Key.N:N0} | {g.Key.Transport} | {g.Key.Mode} | {ok.Count}/{g.Count()} | {Spread(ok, "deliveriesPerSecond", 1)} ");
            table.Append(CultureInfo.InvariantCulture, $"| {Spread(ok, "p50Us", 1)} | {Spread(ok, "p99Us", 1)} | {added} ");
            table.Append(ok.Any(static r => r.TryGetProperty("pacedPublishP50Us", out _))
                ? string.Create(CultureInfo.InvariantCulture, $"| {Median(ok, "pacedPublishP50Us"):N0} / {Median(ok, "pacedPublishP99Us"):N0} ")
                : "| – ");
            table.Append(ok.Any(static r => r.TryGetProperty("pacedPendingWorkItemsP50", out _))
                ? string.Create(CultureInfo.InvariantCulture, $"| {Median(ok, "pacedPendingWorkItemsP50"):N0} / {Median(ok, "pacedPendingWorkItemsP99"):N0} ")
                : "| – ");
            table.Append(byNode.Count == 0
                ? "| – | – "
                : string.Create(CultureInfo.InvariantCulture, $"| {Latency(byNode, "node1P50Us")} / {Latency(byNode, "node1P99Us")} | {Latency(byNode, "node2P50Us")} / {Latency(byNode, "node2P99Us")} "));
            var servers = ok.Any(static r => r.TryGetProperty("serversCpuNsPerDelivery", out _)) ? "serversCpuNsPerDelivery" : "serverCpuNsPerDelivery";
            table.Append(CultureInfo.InvariantCulture, $"| {Median(ok, servers):N0} | {Median(ok, "framesPerRead"):N1} ");
            table.AppendLine(g.Key.Mode == "memory"
                ? "| – | – | – |"
                : string.Create(CultureInfo.InvariantCulture, $"| {Median(ok, "pacedRedisCpuUsPerEvent"):N0} / {Median(ok, "redisCpuUsPerEvent"):N0} | {Median(ok, "pacedRedisScriptUsPerEvent"):N0} | {Median(ok, "pacedRedisXrangePerEvent"):N3} / {Median(ok, "redisXrangePerEvent"):N3} |"));
        }

        return table.ToString();
    }

    // A node's latency percentile over the runs that had receivers there (-1: none, at N = 1 on the publishing node).
    private static string Latency(List<JsonElement> runs, string name)
    {
        var values = runs.Select(r => Num(r, name)).Where(static v => v >= 0).ToList();
        return values.Count == 0 ? "–" : Median(values).ToString("N0", CultureInfo.InvariantCulture);
    }

    // REST writes per second, per store and client, and the factor of Redis to memory with the same client.
    private static string Writes(List<JsonElement> writes)
    {
        if (writes.Count == 0)
        {
            return string.Empty;
        }

        var table = new StringBuilder();
        table.AppendLine();
        table.AppendLine("| writes (POST) | client | runs ok | writes/s: median (min–max) | of memory | p50 / p99 µs | client CPU µs/write (cores) | server CPU µs/write (cores) | server alloc B/write | Redis CPU µs/write (cores) | Redis script µs/write | log reads (XRANGE)/write | machine busy cores |");
        table.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var g in writes
            .GroupBy(static r => (Mode: Mode(r), Client: r.TryGetProperty("client", out var c) ? c.GetString()! : "–"))
            .OrderBy(static g => g.Key.Client, StringComparer.Ordinal)
            .ThenBy(static g => Array.IndexOf(Modes, g.Key.Mode)))
        {
            var ok = g.Where(static r => !Bool(r, "failed") && Num(r, "failures") == 0).ToList();
            var memory = writes.Where(r => Mode(r) == "memory" && !Bool(r, "failed") && Num(r, "failures") == 0
                && (r.TryGetProperty("client", out var c) ? c.GetString() : "–") == g.Key.Client).ToList();
            var factor = memory.Count == 0 || ok.Count == 0 ? "–" : (Median(ok, "writesPerSecond") / Median(memory, "writesPerSecond")).ToString("N2", CultureInfo.InvariantCulture);
            table.Append(CultureInfo.InvariantCulture, $"| {g.Key.Mode} | {g.Key.Client} | {ok.Count}/{g.Count()} | {Spread(ok, "writesPerSecond", 1)} | {factor} ");
            table.Append(CultureInfo.InvariantCulture, $"| {Median(ok, "p50Us"):N0} / {Median(ok, "p99Us"):N0} | {Median(ok, "clientCpuUsPerWrite"):N1} ({Median(ok, "clientCores"):N2}) ");
            table.Append(CultureInfo.InvariantCulture, $"| {Median(ok, "serverCpuUsPerWrite"):N1} ({Median(ok, "serverCores"):N2}) | {Median(ok, "serverAllocatedBytesPerWrite"):N0} ");
            table.AppendLine(g.Key.Mode == "memory"
                ? string.Create(CultureInfo.InvariantCulture, $"| – | – | – | {Median(ok, "machineCores"):N2} |")
                : string.Create(CultureInfo.InvariantCulture, $"| {Median(ok, "redisCpuUsPerWrite"):N1} ({Median(ok, "redisCores"):N2}) | {Median(ok, "redisScriptUsPerWrite"):N1} | {Median(ok, "redisXrangePerWrite"):N3} | {Median(ok, "machineCores"):N2} |"));
        }

        return table.ToString();
    }

    private static string Kind(JsonElement run) => run.TryGetProperty("kind", out var kind) ? kind.GetString()! : "load";

    // Result lines from before the Redis modes have no mode: they ran in memory.
    private static string Mode(JsonElement run) => run.TryGetProperty("mode", out var mode) ? mode.GetString()! : "memory";

    private static string Label(JsonElement run) =>
        Mode(run) == "memory" ? run.GetProperty("transport").GetString()! : $"{run.GetProperty("transport").GetString()} ({Mode(run)})";

    // The three types sampled most, as a mean over the runs.
    private static string Top(List<JsonElement> runs, string name) => string.Join("; ", runs
        .SelectMany(r => r.GetProperty(name).EnumerateArray())
        .GroupBy(static t => (Type: t.GetProperty("type").GetString()!, Kind: t.GetProperty("kind").GetString()!))
        .Select(t => (t.Key, Bytes: t.Sum(static x => x.GetProperty("bytesPerDelivery").GetDouble()) / runs.Count))
        .OrderByDescending(static t => t.Bytes)
        .Take(3)
        .Select(static t => string.Create(CultureInfo.InvariantCulture, $"`` {t.Key.Type} `` ({t.Key.Kind}) {t.Bytes:N1}")));

    // Below 1,000 connections the difference of two process-wide figures is noise (even negative).
    private static string PerConnection(int n, List<JsonElement> runs, string name) =>
        n >= 1000 && runs.Any(r => r.TryGetProperty(name, out _))
            ? (Median(runs, name) / 1024).ToString("N1", CultureInfo.InvariantCulture) + " KiB"
            : "n/a";

    private static string Spread(List<JsonElement> runs, string name, double scale)
    {
        if (runs.Count == 0)
        {
            return "–";
        }

        var values = runs.Select(r => Num(r, name) * scale).ToList();
        return string.Create(CultureInfo.InvariantCulture, $"{Median(values):N0} ({values.Min():N0}–{values.Max():N0})");
    }

    private static double Median(List<JsonElement> runs, string name) => Median(runs.Select(r => Num(r, name)).ToList());

    private static double Median(List<double> values)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        values.Sort();
        var mid = values.Count / 2;
        return values.Count % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    }

    private static double Num(JsonElement run, string name) =>
        run.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : double.NaN;

    private static bool Bool(JsonElement run, string name) =>
        run.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;

    // A log-log line chart: x = subscribers, y = the metric's median per transport.
    private static string Chart(List<JsonElement> runs, string metric, string title)
    {
        const int Width = 720, Height = 420, Left = 80, Right = 170, Top = 40, Bottom = 50;
        var series = Order
            .Select(t => (Transport: t, Points: runs
                .Where(r => r.GetProperty("transport").GetString() == t)
                .GroupBy(static r => r.GetProperty("subscribers").GetInt32())
                .Select(g => (N: (double)g.Key, Y: Median(g.ToList(), metric)))
                .Where(static p => p.Y > 0)
                .OrderBy(static p => p.N)
                .ToList()))
            .Where(static s => s.Points.Count > 0)
            .ToList();
        var all = series.SelectMany(static s => s.Points).ToList();
        if (all.Count == 0)
        {
            return "<svg xmlns=\"http://www.w3.org/2000/svg\"/>";
        }

        double xMin = Math.Log10(all.Min(static p => p.N)), xMax = Math.Max(xMin + 1, Math.Log10(all.Max(static p => p.N)));
        double yMin = Math.Floor(Math.Log10(all.Min(static p => p.Y))), yMax = Math.Ceiling(Math.Log10(all.Max(static p => p.Y)));
        if (yMax <= yMin)
        {
            yMax = yMin + 1;
        }

        double X(double n) => Left + ((Math.Log10(n) - xMin) / (xMax - xMin) * (Width - Left - Right));
        double Y(double v) => Height - Bottom - ((Math.Log10(v) - yMin) / (yMax - yMin) * (Height - Top - Bottom));

        var svg = new StringBuilder();
        svg.AppendLine(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" font-family=\"sans-serif\" font-size=\"12\">");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/><text x=\"{Left}\" y=\"24\" font-size=\"14\">{title}</text>");
        for (var e = yMin; e <= yMax; e++)
        {
            var y = Y(Math.Pow(10, e));
            svg.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{y:F1}\" y2=\"{y:F1}\" stroke=\"#ddd\"/><text x=\"{Left - 8}\" y=\"{y + 4:F1}\" text-anchor=\"end\">{Math.Pow(10, e):N0}</text>");
        }

        foreach (var n in all.Select(static p => p.N).Distinct().Order())
        {
            var x = X(n);
            svg.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{x:F1}\" x2=\"{x:F1}\" y1=\"{Top}\" y2=\"{Height - Bottom}\" stroke=\"#eee\"/><text x=\"{x:F1}\" y=\"{Height - Bottom + 18}\" text-anchor=\"middle\">{n:N0}</text>");
        }

        svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{(Left + Width - Right) / 2}\" y=\"{Height - 10}\" text-anchor=\"middle\">subscribers (log scale)</text>");
        for (var i = 0; i < series.Count; i++)
        {
            var color = Colors[Array.IndexOf(Order, series[i].Transport)];
            var points = string.Join(' ', series[i].Points.Select(p => string.Create(CultureInfo.InvariantCulture, $"{X(p.N):F1},{Y(p.Y):F1}")));
            svg.AppendLine(CultureInfo.InvariantCulture, $"<polyline points=\"{points}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"/>");
            foreach (var p in series[i].Points)
            {
                svg.AppendLine(CultureInfo.InvariantCulture, $"<circle cx=\"{X(p.N):F1}\" cy=\"{Y(p.Y):F1}\" r=\"3\" fill=\"{color}\"/>");
            }

            svg.AppendLine(CultureInfo.InvariantCulture, $"<rect x=\"{Width - Right + 15}\" y=\"{Top + (i * 20)}\" width=\"12\" height=\"3\" fill=\"{color}\"/><text x=\"{Width - Right + 32}\" y=\"{Top + (i * 20) + 5}\">{series[i].Transport}</text>");
        }

        svg.AppendLine("</svg>");
        return svg.ToString();
    }
}
