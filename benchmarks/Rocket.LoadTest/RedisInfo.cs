using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.LoadTest;

/// <summary>
/// Redis's own account of a phase, read with <c>INFO cpu commandstats</c> before and after it: the CPU the Redis
/// process spent (its main thread runs every command and script, so this is the one thread every node's writes share)
/// and how many of each command ran (write scripts, log reads that filled a replica's gap, position checks).
/// </summary>
/// <remarks>
/// A plain socket and an inline command rather than a Redis client: the harness must not add a connection whose own
/// traffic or threads show up in what it measures, and one request before and one after a phase is all it needs.
/// </remarks>
internal sealed class RedisInfo
{
    private readonly Dictionary<string, string> _fields;

    private RedisInfo(Dictionary<string, string> fields) => _fields = fields;

    /// <summary>The Redis process's CPU (user + system, all threads), in seconds with microsecond resolution.</summary>
    public double CpuSeconds => Double("used_cpu_user") + Double("used_cpu_sys");

    /// <summary>Reads <c>INFO cpu commandstats</c> from the Redis at <paramref name="address"/> (<c>host:port</c>); null when there is none.</summary>
    public static async Task<RedisInfo?> ReadAsync(string? address, CancellationToken cancellationToken)
    {
        if (address is null)
        {
            return null;
        }

        var colon = address.LastIndexOf(':');
        var host = address[..colon] is "localhost" ? "127.0.0.1" : address[..colon];
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Parse(host), int.Parse(address[(colon + 1)..], CultureInfo.InvariantCulture), cancellationToken);
        await socket.SendAsync("INFO cpu commandstats\r\n"u8.ToArray(), SocketFlags.None, cancellationToken);

        // A bulk string: "$<length>\r\n<text>\r\n".
        var buffer = new byte[64 * 1024];
        var filled = 0;
        var length = -1;
        var start = 0;
        while (length < 0 || filled < start + length)
        {
            if (filled == buffer.Length)
            {
                Array.Resize(ref buffer, buffer.Length * 2);
            }

            var read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cancellationToken);
            if (read == 0)
            {
                throw new InvalidDataException("Redis closed the connection before INFO's reply ended.");
            }

            filled += read;
            if (length < 0)
            {
                var end = buffer.AsSpan(0, filled).IndexOf("\r\n"u8);
                if (end > 0)
                {
                    if (buffer[0] != (byte)'$')
                    {
                        throw new InvalidDataException("Redis answered INFO with: " + Encoding.UTF8.GetString(buffer, 0, end));
                    }

                    length = int.Parse(Encoding.ASCII.GetString(buffer, 1, end - 1), CultureInfo.InvariantCulture);
                    start = end + 2;
                }
            }
        }

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in Encoding.UTF8.GetString(buffer, start, length).Split("\r\n"))
        {
            var separator = line.IndexOf(':', StringComparison.Ordinal);
            if (separator > 0 && line[0] != '#')
            {
                fields[line[..separator]] = line[(separator + 1)..];
            }
        }

        return new RedisInfo(fields);
    }

    /// <summary>
    /// How many times <paramref name="command"/> ran (<c>cmdstat_&lt;command&gt;:calls=…</c>): commands a script calls
    /// count too, so a write is one <c>evalsha</c> (or <c>eval</c>) plus its <c>hset</c>, <c>xadd</c> and <c>publish</c>.
    /// </summary>
    public long Calls(string command) => Stat(command, "calls");

    /// <summary>The microseconds Redis spent running <paramref name="command"/> (its own execution, no network).</summary>
    public long Microseconds(string command) => Stat(command, "usec");

    private long Stat(string command, string name)
    {
        if (!_fields.TryGetValue("cmdstat_" + command, out var stats))
        {
            return 0;
        }

        foreach (var part in stats.Split(','))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && part.AsSpan(0, equals).SequenceEqual(name))
            {
                return long.Parse(part.AsSpan(equals + 1), CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    private double Double(string name) =>
        _fields.TryGetValue(name, out var value) ? double.Parse(value, CultureInfo.InvariantCulture) : 0;

    /// <summary>
    /// Adds what ran in Redis between <paramref name="before"/> and <paramref name="after"/> to <paramref name="result"/>,
    /// per <paramref name="unit"/> (<c>Event</c>, <c>Write</c>) of which there were <paramref name="count"/>, with names
    /// starting with <paramref name="prefix"/> (a phase, or empty).
    /// </summary>
    public static void Add(Dictionary<string, object?> result, RedisInfo? before, RedisInfo? after, double count, string unit, string prefix = "")
    {
        if (before is null || after is null || count <= 0)
        {
            return;
        }

        string Name(string name) => (prefix.Length == 0 ? name : prefix + char.ToUpperInvariant(name[0]) + name[1..]) + unit;
        var scripts = after.Calls("evalsha") + after.Calls("eval") - before.Calls("evalsha") - before.Calls("eval");
        var scriptUs = after.Microseconds("evalsha") + after.Microseconds("eval") - before.Microseconds("evalsha") - before.Microseconds("eval");
        result[Name("redisCpuUsPer")] = Math.Round((after.CpuSeconds - before.CpuSeconds) * 1_000_000 / count, 2);
        result[Name("redisScriptsPer")] = Math.Round(scripts / count, 3);
        // Redis's time inside the scripts alone: the rest of its CPU is reading requests, writing replies and pub/sub.
        result[Name("redisScriptUsPer")] = Math.Round(scriptUs / count, 2);
        // Log reads: a replica that got an event out of order fills the gap from the log (one XRANGE round trip).
        result[Name("redisXrangePer")] = Math.Round((after.Calls("xrange") - before.Calls("xrange")) / count, 4);
        result[Name("redisPublishPer")] = Math.Round((after.Calls("publish") - before.Calls("publish")) / count, 3);
    }
}
