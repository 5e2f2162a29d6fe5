using System;
using System.Globalization;
using System.IO;
using System.Linq;

namespace Rocket.LoadTest;

/// <summary>
/// The whole machine's busy CPU time so far, from the first line of <c>/proc/stat</c> (user, nice, system, irq, softirq
/// and steal; not idle or iowait), in clock ticks of 10 ms. Both processes' work and the kernel's network processing are
/// in it whichever context ran them, so it shows whether a change in one process's CPU per delivery was work moving
/// between the two or work added. Zero where there is no <c>/proc/stat</c>. And whether the kernel's DAMON monitors,
/// which take CPU of their own, run (<see cref="Damon"/>).
/// </summary>
internal static class MachineCpu
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(10);

    public static TimeSpan Busy()
    {
        if (!File.Exists("/proc/stat"))
        {
            return TimeSpan.Zero;
        }

        using var reader = new StreamReader("/proc/stat");
        var fields = reader.ReadLine()!.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields[0] != "cpu" || fields.Length < 9)
        {
            throw new InvalidDataException("/proc/stat does not start with the cpu line.");
        }

        long ticks = 0;
        foreach (var i in (ReadOnlySpan<int>)[1, 2, 3, 6, 7, 8]) // user nice system irq softirq steal
        {
            ticks += long.Parse(fields[i], CultureInfo.InvariantCulture);
        }

        return ticks * Tick;
    }

    /// <summary>
    /// Whether the kernel's DAMON monitors run: "on" when any kdamond is on, "off" when all are off, "none" where there
    /// are none. Where one runs a proactive-reclaim scheme it takes a core for a few milliseconds every sampling interval
    /// (500 ms on this machine), and a paced event due then is late (run-load.sh's PAUSE_DAMON).
    /// </summary>
    public static string Damon()
    {
        const string Kdamonds = "/sys/kernel/mm/damon/admin/kdamonds";
        if (!Directory.Exists(Kdamonds))
        {
            return "none";
        }

        var states = Directory.GetDirectories(Kdamonds)
            .Select(d => Path.Combine(d, "state"))
            .Where(File.Exists)
            .Select(f => File.ReadAllText(f).Trim())
            .ToList();
        return states.Count == 0 ? "none" : states.Contains("on") ? "on" : "off";
    }
}
