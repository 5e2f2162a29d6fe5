using System;
using System.Diagnostics;
using System.Globalization;
using System.Threading.Tasks;
using CsCheck;
using Xunit.Abstractions;

namespace Rocket.Fuzz.Tests;

/// <summary>
/// Runs a property over generated cases. Without <c>ROCKET_FUZZ_ITERATIONS</c> (CI): a fixed number of cases drawn in
/// order from a fixed seed, so every run checks the same inputs. With it: that many random cases (divided by the
/// property's cost for the slow ones), across the machine's cores where the property allows, as CsCheck samples them.
/// </summary>
/// <remarks>
/// A failing case is handed to CsCheck with its seed, which runs it first and then searches for a smaller input that
/// still fails; the exception names the seed (<c>CsCheck_Seed</c>) and prints the smallest failing input.
/// </remarks>
internal static class Fuzz
{
    public const string IterationsVariable = "ROCKET_FUZZ_ITERATIONS";

    // How many random cases CsCheck tries when shrinking a failure found by the fixed-seed set.
    private const int ShrinkCases = 2_000;
    private const int ShrinkCasesAsync = 20;

    /// <summary>The long run's number of cases per property, or null for the fixed-seed CI set.</summary>
    public static long? LongRun { get; } = ReadIterations();

    /// <summary>Runs <paramref name="property"/>; returns how many cases ran.</summary>
    /// <param name="gen">The inputs.</param>
    /// <param name="property">Throws when the property does not hold.</param>
    /// <param name="seed">The fixed seed of the CI set; each property has its own.</param>
    /// <param name="ciCases">How many cases the CI set runs.</param>
    /// <param name="cost">How many in-process cases one case of this property is worth: the long run divides by it.</param>
    /// <param name="parallel">Whether cases may run at once (false when they share a server or other state).</param>
    /// <param name="print">How a failing input is shown.</param>
    /// <param name="output">Where the count and time are written.</param>
    public static long Run<T>(Gen<T> gen, Action<T> property, ulong seed, int ciCases, ITestOutputHelper output, int cost = 1, bool parallel = true, Func<T, string>? print = null)
    {
        var watch = Stopwatch.StartNew();
        long cases;
        if (LongRun is { } iterations)
        {
            cases = Math.Max(1, iterations / cost);
            gen.Sample(property, iter: cases, threads: parallel ? Environment.ProcessorCount : 1, print: print);
        }
        else
        {
            cases = ciCases;
            var pcg = new PCG(1, seed);
            for (var i = 0; i < ciCases; i++)
            {
                var state = pcg.State;
                var value = gen.Generate(pcg, null, out _);
                try
                {
                    property(value);
                }
                catch (Exception e) when (e is not CsCheckException)
                {
                    var caseSeed = pcg.ToString(state);
                    gen.Sample(property, seed: caseSeed, iter: ShrinkCases, threads: 1, print: print);
                    throw new InvalidOperationException($"Case {i} (seed {caseSeed}) failed once and passed when run again: the property is not deterministic.", e);
                }
            }
        }

        Report(output, cases, watch);
        return cases;
    }

    /// <summary>As <see cref="Run{T}"/>, for a property that awaits (a server, a socket); its cases never overlap.</summary>
    public static async Task<long> RunAsync<T>(Gen<T> gen, Func<T, Task> property, ulong seed, int ciCases, ITestOutputHelper output, int cost, Func<T, string>? print = null)
    {
        var watch = Stopwatch.StartNew();
        long cases;
        if (LongRun is { } iterations)
        {
            cases = Math.Max(1, iterations / cost);
            await gen.SampleAsync(property, iter: cases, threads: 1, print: print);
        }
        else
        {
            cases = ciCases;
            var pcg = new PCG(1, seed);
            for (var i = 0; i < ciCases; i++)
            {
                var state = pcg.State;
                var value = gen.Generate(pcg, null, out _);
                try
                {
                    await property(value);
                }
                catch (Exception e) when (e is not CsCheckException)
                {
                    var caseSeed = pcg.ToString(state);
                    await gen.SampleAsync(property, seed: caseSeed, iter: ShrinkCasesAsync, threads: 1, print: print);
                    throw new InvalidOperationException($"Case {i} (seed {caseSeed}) failed once and passed when run again: the property is not deterministic.", e);
                }
            }
        }

        Report(output, cases, watch);
        return cases;
    }

    private static void Report(ITestOutputHelper output, long cases, Stopwatch watch) =>
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{cases} cases ({(LongRun is null ? "fixed seed" : "random")}) in {watch.Elapsed.TotalSeconds:F1} s"));

    private static long? ReadIterations()
    {
        var text = Environment.GetEnvironmentVariable(IterationsVariable);
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new InvalidOperationException($"{IterationsVariable} must be a positive whole number, not '{text}'.");
    }
}
