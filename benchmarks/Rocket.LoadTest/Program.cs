using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading.Tasks;

namespace Rocket.LoadTest;

/// <summary>
/// <c>server --port P [--transport T] [--redis HOST:PORT] [--key-prefix K]</c>,
/// <c>load --server URL [--server2 URL] [--redis HOST:PORT] --transport T --subscribers N --events E [--rate R] [--paced K] [--paced-warmup W] [--timeout S] [--hold S]</c>,
/// <c>writes --server URL [--redis HOST:PORT] [--requests R] [--concurrency C] [--warmup W] [--client socket|httpclient] [--timeout S]</c>,
/// <c>storm --server URL [--live L] [--storm N] [--events E] [--rate R] [--warmup W] [--spread SECONDS] [--timeout S]</c>,
/// <c>report results.jsonl [--charts DIR]</c> or <c>idle-core [--subscribers N]</c>.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0)
        {
            return Usage();
        }

        var named = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = args[0] == "report" ? 2 : 1; i + 1 < args.Length; i += 2)
        {
            named[args[i]] = args[i + 1];
        }

        switch (args[0])
        {
            case "server":
                var only = named.GetValueOrDefault("--transport");
                if (only is not null && Array.IndexOf(BenchServer.Transports, only) < 0)
                {
                    return Usage();
                }

                return await BenchServer.RunAsync(Int(named, "--port", 0), only, Loopback(named.GetValueOrDefault("--redis")), named.GetValueOrDefault("--key-prefix"));
            case "load":
                var options = new LoadOptions(
                    new Uri(named.GetValueOrDefault("--server", "http://127.0.0.1:5099")),
                    named.GetValueOrDefault("--transport", "sse"),
                    Int(named, "--subscribers", 1),
                    Int(named, "--events", 1000),
                    double.Parse(named.GetValueOrDefault("--rate", "100"), CultureInfo.InvariantCulture),
                    Int(named, "--paced", 200),
                    Int(named, "--timeout", 120),
                    Int(named, "--hold", 0),
                    Int(named, "--paced-warmup", 100))
                {
                    Server2 = named.TryGetValue("--server2", out var server2) ? new Uri(server2) : null,
                    Redis = Loopback(named.GetValueOrDefault("--redis")),
                };
                if (!options.Server.IsLoopback || options.Server2 is { IsLoopback: false })
                {
                    Console.Error.WriteLine("The load test talks to loopback servers only.");
                    return 1;
                }

                return await LoadRunner.RunAsync(options);
            case "writes":
                var writes = new WriteOptions(
                    new Uri(named.GetValueOrDefault("--server", "http://127.0.0.1:5099")),
                    Int(named, "--requests", 20_000),
                    Int(named, "--concurrency", 16),
                    Int(named, "--warmup", 2_000),
                    Int(named, "--timeout", 120),
                    Loopback(named.GetValueOrDefault("--redis")),
                    named.GetValueOrDefault("--client", "socket"));
                if (!writes.Server.IsLoopback || writes.Requests < 1 || writes.Concurrency < 1 || writes.Client is not ("socket" or "httpclient"))
                {
                    return Usage();
                }

                return await WriteRunner.RunAsync(writes);
            case "storm":
                var storm = new StormOptions(
                    new Uri(named.GetValueOrDefault("--server", "http://127.0.0.1:5099")),
                    Int(named, "--live", 100),
                    Int(named, "--storm", 1000),
                    Int(named, "--events", 500),
                    double.Parse(named.GetValueOrDefault("--rate", "100"), CultureInfo.InvariantCulture),
                    Int(named, "--warmup", 100),
                    Int(named, "--timeout", 300),
                    double.Parse(named.GetValueOrDefault("--spread", "0"), CultureInfo.InvariantCulture));
                if (!storm.Server.IsLoopback || storm.Live < 1 || storm.Storm < 1 || storm.Events < 1 || storm.Rate <= 0)
                {
                    return Usage();
                }

                return await StormRunner.RunAsync(storm);
            case "idle-core":
                return await IdleSubscriberProbe.RunAsync(Int(named, "--subscribers", 20_000));
            case "report" when args.Length >= 2:
                return Report.Run(args[1], named.GetValueOrDefault("--charts"));
            default:
                return Usage();
        }
    }

    private static int Int(Dictionary<string, string> named, string name, int fallback) =>
        named.TryGetValue(name, out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    // Redis too is reached on loopback only: the harness measures one machine, and must not write into a shared Redis.
    private static string? Loopback(string? redis)
    {
        if (redis is null)
        {
            return null;
        }

        var host = redis.Split(':')[0];
        return host is "127.0.0.1" or "localhost" or "::1"
            ? redis
            : throw new ArgumentException($"--redis must be a loopback address, not '{redis}'.");
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: server --port P [--transport sse|websocket|signalr|signalr-messagepack|baseline-sse|baseline-signalr|raw] [--redis 127.0.0.1:P --key-prefix K]"
            + " | load --server http://127.0.0.1:P [--server2 http://127.0.0.1:P2] [--redis 127.0.0.1:P] --transport sse|websocket|signalr|signalr-messagepack|baseline-sse|baseline-signalr|raw --subscribers N --events E [--rate R] [--paced K] [--paced-warmup W] [--timeout S] [--hold S]"
            + " | writes --server http://127.0.0.1:P [--redis 127.0.0.1:P] [--requests R] [--concurrency C] [--warmup W] [--client socket|httpclient] [--timeout S]"
            + " | storm --server http://127.0.0.1:P [--live L] [--storm N] [--events E] [--rate R] [--warmup W] [--spread SECONDS] [--timeout S]"
            + " | report results.jsonl [--charts DIR] | idle-core [--subscribers N]");
        return 1;
    }
}
