using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Net.Http;
using System.Net.ServerSentEvents;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Rocket;
using Rocket.Postgres;
using Rocket.Postgres.Tests;

// A bounded benchmark of a table served live: rows inserted with plain SQL (one per transaction), delivered over SSE to
// N subscribers; then the same rows found by N clients polling the table. Prints one JSON line per phase.
//   dotnet run -c Release --project benchmarks/Rocket.PostgresBench -- [--subscribers 1000] [--rate 50] [--seconds 20] [--poll-ms 1000]
var options = Args.Parse(args);
await using var postgres = await PostgresProcess.StartAsync();
await postgres.ExecuteAsync("CREATE TABLE bench (id text PRIMARY KEY, seq bigserial NOT NULL, n integer)");

// The tests' cluster commits asynchronously, and a walsender sends only flushed WAL, which the WAL writer flushes every
// 200 ms: the writers here commit synchronously, as by default (fsync stays off, so the disk's speed is not measured).
await using var writers = NpgsqlDataSource.Create(postgres.ConnectionString + ";Options=-c synchronous_commit=on");
Console.Error.WriteLine($"PostgreSQL on 127.0.0.1:{postgres.Port}; {options.Subscribers} subscribers, {options.Rate} rows/s for {options.Seconds} s");

var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
builder.WebHost.UseUrls("http://127.0.0.1:0");
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole().AddFilter((category, level) => level >= LogLevel.Warning || (category?.StartsWith("Rocket", StringComparison.Ordinal) == true && level >= LogLevel.Information));
builder.Services.AddRocket()
    .AddPostgresCollection("bench", o =>
    {
        o.ConnectionString = postgres.ConnectionString;
        o.Columns = ["n"];
    })
    .AddSseTransport();
await using var app = builder.Build();
app.MapRocketCollection("bench");
await app.StartAsync();
var address = new Uri(app.Urls.Single() + "/");

var sent = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
var latencies = new List<double>[options.Subscribers];
var received = new long[options.Subscribers];
using var stop = new CancellationTokenSource();
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue }) { BaseAddress = address, Timeout = Timeout.InfiniteTimeSpan };
var ready = new CountdownEvent(options.Subscribers);
var readers = Enumerable.Range(0, options.Subscribers).Select(i => Task.Run(async () =>
{
    latencies[i] = new List<double>(options.Rate * options.Seconds);
    using var request = new HttpRequestMessage(HttpMethod.Get, "bench");
    request.Headers.Accept.ParseAdd("text/event-stream");
    using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stop.Token);
    await using var body = await response.Content.ReadAsStreamAsync(stop.Token);
    var first = true;
    try
    {
        await foreach (var item in SseParser.Create(body).EnumerateAsync(stop.Token))
        {
            if (item.EventType != "patch")
            {
                Console.Error.WriteLine($"subscriber {i}: {item.EventType} {item.Data}");
                continue;
            }

            if (first)
            {
                first = false;
                ready.Signal();
                continue;
            }

            var now = Stopwatch.GetTimestamp();

            // Each add is `{"op":"add","path":"/bench/<id>",...}`: find every id the event carries.
            var data = item.Data;
            var at = 0;
            while ((at = data.IndexOf("\"path\":\"/bench/", at, StringComparison.Ordinal)) >= 0)
            {
                at += 15;
                var end = data.IndexOf('"', at);
                if (sent.TryGetValue(data[at..end], out var start) && latencies[i].Count < latencies[i].Capacity)
                {
                    latencies[i].Add(Stopwatch.GetElapsedTime(start, now).TotalMilliseconds);
                }

                Interlocked.Increment(ref received[i]);
            }
        }
    }
    catch (OperationCanceledException)
    {
    }
})).ToList();
if (!ready.Wait(TimeSpan.FromSeconds(120)))
{
    throw new InvalidOperationException("not every subscriber connected");
}

// Phase 0: one row at a time, waiting for the collection itself (no HTTP) to hold it: the replication path alone.
var live = app.Services.GetRequiredService<CollectionRegistry>().GetCollection("bench");
var direct = new List<double>();
await using (var writer = await writers.OpenConnectionAsync())
{
    for (var i = 0; i < 50; i++)
    {
        var before0 = live.Cursor.Sequence;
        var start = Stopwatch.GetTimestamp();
        await using var insert = new NpgsqlCommand($"INSERT INTO bench (id, n) VALUES ('d{i}', {i})", writer);
        await insert.ExecuteNonQueryAsync();
        var committedAt = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        while (live.Cursor.Sequence == before0)
        {
            Thread.SpinWait(100);
        }

        direct.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        if (i < 3)
        {
            Console.Error.WriteLine($"commit {committedAt:0.00} ms, applied {direct[^1]:0.00} ms");
        }
    }
}

var directSorted = direct.Order().ToArray();
Console.WriteLine(Json(("phase", "replication"), ("rows", direct.Count), ("p50Ms", Percentile(directSorted, 0.5)), ("p99Ms", Percentile(directSorted, 0.99))));

// Phase 1, paced: `rate` single-row transactions per second; latency from sending the INSERT to each subscriber's receipt.
await using (var writer = await writers.OpenConnectionAsync())
{
    var interval = TimeSpan.FromSeconds(1.0 / options.Rate);
    var started = Stopwatch.GetTimestamp();
    var total = options.Rate * options.Seconds;
    for (var i = 0; i < total; i++)
    {
        var due = started + (long)(i * interval.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < due)
        {
            await Task.Delay(1);
        }

        var id = "p" + i.ToString(CultureInfo.InvariantCulture);
        sent[id] = Stopwatch.GetTimestamp();
        await using var insert = new NpgsqlCommand($"INSERT INTO bench (id, n) VALUES ('{id}', {i})", writer);
        await insert.ExecuteNonQueryAsync();
    }
}

if (!await WaitForAsync(() => received.All(r => r >= options.Rate * options.Seconds + 50), TimeSpan.FromSeconds(60)))
{
    throw new TimeoutException("the paced phase's deliveries did not complete");
}
var all = latencies.SelectMany(l => l).Order().ToArray();
Console.WriteLine(Json(("phase", "paced"), ("subscribers", options.Subscribers), ("rowsPerSecond", options.Rate), ("rows", options.Rate * options.Seconds),
    ("deliveries", all.Length), ("p50Ms", Percentile(all, 0.50)), ("p99Ms", Percentile(all, 0.99)), ("maxMs", all[^1])));

// Phase 2, sustained: four writers insert single-row transactions as fast as they can for `seconds`; how many commits per
// second the table took, how many events per second each subscriber got, and how far behind the last subscriber was.
var before = received.Sum();
var committed = 0L;
var writeEnd = DateTime.UtcNow.AddSeconds(options.Seconds);
var clock = Stopwatch.StartNew();
var writerTasks = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
{
    await using var connection = await writers.OpenConnectionAsync();
    for (var i = 0; DateTime.UtcNow < writeEnd; i++)
    {
        var id = $"s{w}.{i}";
        sent[id] = Stopwatch.GetTimestamp();
        await using var insert = new NpgsqlCommand($"INSERT INTO bench (id, n) VALUES ('{id}', {i})", connection);
        await insert.ExecuteNonQueryAsync();
        Interlocked.Increment(ref committed);
    }
})).ToArray();
await Task.WhenAll(writerTasks);
var writeSeconds = clock.Elapsed.TotalSeconds;
var expected = options.Rate * options.Seconds + committed + 50;
if (!await WaitForAsync(() => received.All(r => r >= expected), TimeSpan.FromSeconds(60)))
{
    // A subscriber that fell more than its queue behind was closed (SlowConsumer, printed above) and is not reconnected here.
    Console.WriteLine(Json(("phase", "sustained"), ("incomplete", "true"), ("subscribersComplete", received.Count(r => r >= expected))));
}

var drainSeconds = clock.Elapsed.TotalSeconds - writeSeconds;
Console.WriteLine(Json(("phase", "sustained"), ("subscribers", options.Subscribers), ("commitsPerSecond", committed / writeSeconds),
    ("eventsPerSecondPerSubscriber", committed / clock.Elapsed.TotalSeconds), ("deliveriesPerSecond", (received.Sum() - before) / clock.Elapsed.TotalSeconds),
    ("drainAfterWritersStoppedMs", drainSeconds * 1000)));
await stop.CancelAsync();
await Task.WhenAll(readers);

// Phase 3, the baseline: the same number of clients poll the table every `poll-ms` for rows past the last they saw;
// latency from sending the INSERT to the poll that found it, and the queries per second the database serves for it.
var polled = new List<double>[options.Subscribers];
var queries = 0L;
await using (var source = NpgsqlDataSource.Create(postgres.ConnectionString + ";Maximum Pool Size=50"))
{
    long lastSeq;
    await using (var connection = await postgres.OpenAsync())
    await using (var max = new NpgsqlCommand("SELECT coalesce(max(seq), 0) FROM bench", connection))
    {
        lastSeq = (long)(await max.ExecuteScalarAsync())!;
    }

    using var pollStop = new CancellationTokenSource();
    var pollers = Enumerable.Range(0, options.Subscribers).Select(i => Task.Run(async () =>
    {
        polled[i] = [];
        var last = lastSeq;
        await Task.Delay(Random.Shared.Next(options.PollMs));
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.PollMs));
        try
        {
            do
            {
                await using var connection = await source.OpenConnectionAsync(pollStop.Token);
                await using var select = new NpgsqlCommand("SELECT id, seq FROM bench WHERE seq > $1 ORDER BY seq", connection);
                select.Parameters.Add(new NpgsqlParameter { Value = last });
                await using var reader = await select.ExecuteReaderAsync(pollStop.Token);
                Interlocked.Increment(ref queries);
                var now = Stopwatch.GetTimestamp();
                while (await reader.ReadAsync(pollStop.Token))
                {
                    if (sent.TryGetValue(reader.GetString(0), out var start))
                    {
                        polled[i].Add(Stopwatch.GetElapsedTime(start, now).TotalMilliseconds);
                    }

                    last = reader.GetInt64(1);
                }
            }
            while (await timer.WaitForNextTickAsync(pollStop.Token));
        }
        catch (OperationCanceledException)
        {
        }
    })).ToList();
    await Task.Delay(options.PollMs * 2);
    var queriesBefore = Interlocked.Read(ref queries);
    var pollClock = Stopwatch.StartNew();
    await using (var writer = await writers.OpenConnectionAsync())
    {
        var started = Stopwatch.GetTimestamp();
        var total = options.Rate * options.Seconds;
        for (var i = 0; i < total; i++)
        {
            var due = started + (long)(i * (1.0 / options.Rate) * Stopwatch.Frequency);
            while (Stopwatch.GetTimestamp() < due)
            {
                await Task.Delay(1);
            }

            var id = "q" + i.ToString(CultureInfo.InvariantCulture);
            sent[id] = Stopwatch.GetTimestamp();
            await using var insert = new NpgsqlCommand($"INSERT INTO bench (id, n) VALUES ('{id}', {i})", writer);
            await insert.ExecuteNonQueryAsync();
        }
    }

    await Task.Delay(options.PollMs * 3);
    var queriesPerSecond = (Interlocked.Read(ref queries) - queriesBefore) / pollClock.Elapsed.TotalSeconds;
    await pollStop.CancelAsync();
    await Task.WhenAll(pollers);
    var found = polled.SelectMany(l => l).Order().ToArray();
    Console.WriteLine(Json(("phase", "polling"), ("clients", options.Subscribers), ("pollMs", options.PollMs), ("rowsPerSecond", options.Rate),
        ("deliveries", found.Length), ("p50Ms", Percentile(found, 0.50)), ("p99Ms", Percentile(found, 0.99)), ("queriesPerSecond", queriesPerSecond)));
}

await app.StopAsync();
return 0;

static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : Math.Round(sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))], 2);

static string Json(params (string Name, object Value)[] fields) =>
    "{" + string.Join(",", fields.Select(f => $"\"{f.Name}\":" + (f.Value is string s ? $"\"{s}\"" : Convert.ToString(f.Value is double d ? Math.Round(d, 2) : f.Value, CultureInfo.InvariantCulture)))) + "}";

static async Task<bool> WaitForAsync(Func<bool> condition, TimeSpan timeout)
{
    var deadline = DateTime.UtcNow + timeout;
    while (!condition())
    {
        if (DateTime.UtcNow > deadline)
        {
            return false;
        }

        await Task.Delay(10);
    }

    return true;
}

internal sealed record Args(int Subscribers, int Rate, int Seconds, int PollMs)
{
    public static Args Parse(string[] args)
    {
        string? Value(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        int Int(string name, int fallback) => Value(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        return new Args(Int("--subscribers", 1000), Int("--rate", 50), Int("--seconds", 20), Int("--poll-ms", 1000));
    }
}
