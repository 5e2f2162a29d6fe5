using System;
using System.Linq;
using BenchmarkDotNet.Running;

namespace Rocket.Benchmarks;

public static class Program
{
    // BenchmarkDotNet exits 0 even when a benchmark throws: report failure through the exit code ourselves.
    public static int Main(string[] args)
    {
        // Not a BenchmarkDotNet run: retained memory of collection family instances (docs/benchmarks.md, "Families").
        if (args.Length > 0 && args[0] == "--family-memory")
        {
            return Live.FamilyMemory.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 100_000);
        }

        // Not a BenchmarkDotNet run: the telemetry cost, off and listening alternated in one process (docs/benchmarks.md).
        if (args.Length > 0 && args[0] == "--telemetry-cost")
        {
            return Live.TelemetryCost.Run(
                args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1_000,
                args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 40);
        }

        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(ExpandQuickMode(args));
        var failed = summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success));
        return failed ? 1 : 0;
    }

    // `--quick` runs every benchmark once with BenchmarkDotNet's short job: a fast smoke run of the whole suite, not
    // figures to publish. Other arguments pass through, so `--quick --filter '*Patch*'` narrows it again.
    private static string[] ExpandQuickMode(string[] args)
    {
        if (!args.Contains("--quick", StringComparer.Ordinal))
        {
            return args;
        }

        var rest = args.Where(a => !string.Equals(a, "--quick", StringComparison.Ordinal)).ToList();
        if (!rest.Contains("--filter", StringComparer.Ordinal) && !rest.Contains("-f", StringComparer.Ordinal))
        {
            rest.AddRange(["--filter", "*"]);
        }

        if (!rest.Contains("--job", StringComparer.Ordinal) && !rest.Contains("-j", StringComparer.Ordinal))
        {
            rest.AddRange(["--job", "short"]);
        }

        return [.. rest];
    }
}
