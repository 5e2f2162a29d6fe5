using System;
using System.Linq;
using BenchmarkDotNet.Running;

namespace Rocket.Benchmarks;

public static class Program
{
    // BenchmarkDotNet exits 0 even when a benchmark throws: report failure through the exit code ourselves.
    public static int Main(string[] args)
    {
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        var failed = summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success));
        return failed ? 1 : 0;
    }
}
