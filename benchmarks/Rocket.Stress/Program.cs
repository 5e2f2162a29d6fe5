using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using Rocket.Stress;

// rocket-stress [options]        runs the scenarios against servers it starts itself, prints a table, exits 1 on a failure
// rocket-stress server --port N  (internal) the server process the scenarios start
if (args.Length > 0 && args[0] == "server")
{
    return await StressServer.RunAsync(int.Parse(Option(args, "--port") ?? "0", CultureInfo.InvariantCulture), int.Parse(Option(args, "--send-buffer") ?? "0", CultureInfo.InvariantCulture));
}

if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine("""
        benchmarks/run-stress.sh [options]   self-checking stress scenarios on loopback; prints a table

          --scenarios LIST            reset-storm,churn,stalled,reconnect,shutdown,soak (default: all)
          --storm-transports LIST     transports of the reset storm (default: sse,websocket,signalr)
          --storm-subscribers N       subscribers per reset storm (default 500)
          --storm-mib N               collection size in MiB (default 24)
          --cycles N                  connect/abort cycles (default 100000)
          --concurrency N             cycles at a time (default 32)
          --stalled-subscribers N     readers beside the stalled one (default 999)
          --reconnect-clients N       clients of the reconnect storm (default 300)
          --shutdown-clients N        clients of the shutdown scenario (default 300)
          --soak-minutes M            soak length (default 1; 10 for the full soak)
          --soak-subscribers N        soak subscribers (default 300)
          --results FILE              JSON lines of the results (default benchmarks/results/stress-<time>.jsonl)
        """);
    return 0;
}

var scenarios = (Option(args, "--scenarios") ?? "reset-storm,churn,stalled,reconnect,shutdown,soak").Split(',', StringSplitOptions.RemoveEmptyEntries);
var stormTransports = (Option(args, "--storm-transports") ?? "sse,websocket,signalr").Split(',', StringSplitOptions.RemoveEmptyEntries);
int Int(string name, int fallback) => Option(args, name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
var soakMinutes = Option(args, "--soak-minutes") is { } m ? double.Parse(m, CultureInfo.InvariantCulture) : 1;
var results = new List<ScenarioResult>();
var started = DateTime.UtcNow;
var file = Option(args, "--results") ?? Path.Combine(FindResults(), $"stress-{started:yyyyMMdd'T'HHmmss'Z'}.jsonl");

async Task Run(Func<Task<ScenarioResult>> scenario, string name)
{
    Console.Error.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {name} ...");
    ScenarioResult result;
    try
    {
        result = await scenario();
    }
    catch (Exception e) when (e is not OutOfMemoryException)
    {
        result = new ScenarioResult(name, "ran to the end", false, $"{e.GetType().Name}: {e.Message}", []);
    }

    results.Add(result);
    Console.Error.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {(result.Pass ? "PASS" : "FAIL")} {result.Scenario}: {result.Figures}");
    var line = new Dictionary<string, object>(result.Values)
    {
        ["scenario"] = result.Scenario, ["check"] = result.Check, ["pass"] = result.Pass, ["figures"] = result.Figures,
        ["time"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture), ["cores"] = Environment.ProcessorCount,
    };
    await File.AppendAllTextAsync(file, JsonSerializer.Serialize(line) + "\n");
}

foreach (var scenario in scenarios)
{
    switch (scenario)
    {
        case "reset-storm":
            foreach (var transport in stormTransports)
            {
                var n = Int("--storm-subscribers", 500);
                var mib = Int("--storm-mib", 24);
                await Run(() => Scenarios.ResetStormAsync(transport, n, mib, budgetMiB: 1.0), $"reset storm {transport}");
            }

            break;
        case "churn":
            await Run(() => Scenarios.ChurnAsync(Int("--cycles", 100_000), Int("--concurrency", 32)), "churn");
            break;
        case "stalled":
            await Run(() => Scenarios.StalledAsync(Int("--stalled-subscribers", 999), rate: 200, seconds: 10), "stalled");
            break;
        case "reconnect":
            await Run(() => Scenarios.ReconnectStormAsync(Int("--reconnect-clients", 300), rate: 100, seconds: 9), "reconnect storm");
            break;
        case "shutdown":
            await Run(() => Scenarios.ShutdownAsync(Int("--shutdown-clients", 300), rate: 100), "shutdown");
            break;
        case "soak":
            await Run(() => Scenarios.SoakAsync(Int("--soak-subscribers", 300), rate: 100, soakMinutes), "soak");
            break;
        default:
            Console.Error.WriteLine($"Unknown scenario '{scenario}'.");
            return 2;
    }
}

Console.WriteLine();
Console.WriteLine($"Rocket stress suite, {started:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {Environment.OSVersion}");
Console.WriteLine();
Console.WriteLine("| scenario | check | result | figures |");
Console.WriteLine("|---|---|---|---|");
foreach (var r in results)
{
    Console.WriteLine($"| {r.Scenario} | {r.Check} | {(r.Pass ? "pass" : "FAIL")} | {r.Figures} |");
}

Console.WriteLine();
Console.WriteLine($"Results: {file}");
return results.All(r => r.Pass) ? 0 : 1;

static string? Option(string[] args, string name)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
}

// benchmarks/results beside this project, found from the working directory or the binary.
static string FindResults()
{
    foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "benchmarks", "results");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }
    }

    return Directory.GetCurrentDirectory();
}
