using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading.Tasks;

namespace Rocket.LoadTest;

/// <summary>
/// <c>server --port P [--transport T]</c>, <c>load --server URL --transport T --subscribers N --events E [--rate R] [--paced K] [--paced-warmup W] [--timeout S] [--hold S]</c>,
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

                return await BenchServer.RunAsync(Int(named, "--port", 0), only);
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
                    Int(named, "--paced-warmup", 100));
                if (!options.Server.IsLoopback)
                {
                    Console.Error.WriteLine("The load test talks to loopback servers only.");
                    return 1;
                }

                return await LoadRunner.RunAsync(options);
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

    private static int Usage()
    {
        Console.Error.WriteLine("usage: server --port P [--transport sse|websocket|signalr|baseline-sse|baseline-signalr|raw] | load --server http://127.0.0.1:P --transport sse|websocket|signalr|baseline-sse|baseline-signalr|raw --subscribers N --events E [--rate R] [--paced K] [--paced-warmup W] [--timeout S] [--hold S] | report results.jsonl [--charts DIR] | idle-core [--subscribers N]");
        return 1;
    }
}
