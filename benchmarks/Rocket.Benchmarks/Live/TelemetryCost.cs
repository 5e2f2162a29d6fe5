using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;

namespace Rocket.Benchmarks.Live;

/// <summary>
/// What a listener on every instrument costs per delivery, measured side by side: two copies of
/// <see cref="DeliveryBenchmarks"/> (telemetry off, and listening) live in one process, and the rounds alternate between
/// them, so a busy neighbour on a shared machine slows both alike instead of whichever BenchmarkDotNet ran at the time.
/// Prints, per transport and benchmark, the median time per operation of each and their ratio (off / listening: 1.00
/// costs nothing, 0.95 is 5 % slower with a listener).
/// </summary>
internal static class TelemetryCost
{
    public static int Run(int subscribers, int rounds)
    {
        Console.WriteLine($"subscribers {subscribers}, {rounds} alternating rounds, {Environment.ProcessorCount} cores");
        Console.WriteLine("| transport | benchmark | off (median per op) | listening (median per op) | off / listening |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var transport in new[] { "sse", "websocket" })
        {
            var off = new DeliveryBenchmarks { Subscribers = subscribers, Transport = transport, Telemetry = "off" };
            var listening = new DeliveryBenchmarks { Subscribers = subscribers, Transport = transport, Telemetry = "listening" };
            off.Setup();
            listening.Setup();
            try
            {
                Measure(transport, "Deliver", 1, rounds, off.Deliver, listening.Deliver);
                Measure(transport, "DeliverBurst", DeliveryBenchmarks.BurstEvents, rounds, off.DeliverBurst, listening.DeliverBurst);
            }
            finally
            {
                off.Cleanup();
                listening.Cleanup();
            }
        }

        return 0;
    }

    private static void Measure(string transport, string name, int eventsPerCall, int rounds, Action off, Action listening)
    {
        // Enough calls per round for a few milliseconds of work, so the timer's resolution does not matter.
        const int CallsPerRound = 20;
        for (var i = 0; i < CallsPerRound; i++)
        {
            off();
            listening();
        }

        var offTimes = new List<double>(rounds);
        var listeningTimes = new List<double>(rounds);
        for (var round = 0; round < rounds; round++)
        {
            // Which goes first alternates too, so neither always runs right after a collection.
            if (round % 2 == 0)
            {
                offTimes.Add(Time(off, CallsPerRound, eventsPerCall));
                listeningTimes.Add(Time(listening, CallsPerRound, eventsPerCall));
            }
            else
            {
                listeningTimes.Add(Time(listening, CallsPerRound, eventsPerCall));
                offTimes.Add(Time(off, CallsPerRound, eventsPerCall));
            }
        }

        var offMedian = Median(offTimes);
        var listeningMedian = Median(listeningTimes);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {transport} | {name} | {offMedian:F1} µs | {listeningMedian:F1} µs | {offMedian / listeningMedian:F2} |"));
    }

    // Microseconds per event.
    private static double Time(Action action, int calls, int eventsPerCall)
    {
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < calls; i++)
        {
            action();
        }

        return Stopwatch.GetElapsedTime(start).TotalMicroseconds / (calls * eventsPerCall);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
