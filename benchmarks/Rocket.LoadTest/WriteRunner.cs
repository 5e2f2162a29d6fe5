using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.LoadTest;

/// <summary>Options of the <c>writes</c> mode.</summary>
internal sealed record WriteOptions(Uri Server, int Requests, int Concurrency, int WarmupRequests, int TimeoutSeconds, string? Redis, string Client = "socket");

/// <summary>
/// REST writes per second through the scaffold: <c>POST /bench</c> (each creates a record, as <c>POST /messages</c>
/// does in an app) from <see cref="WriteOptions.Concurrency"/> workers, each with one request in flight at a time on its
/// own keep-alive connection, until <see cref="WriteOptions.Requests"/> have been answered; then one JSON line.
/// </summary>
/// <remarks>
/// The client shares the two cores with the server (and Redis), so whatever it spends the server cannot: its own CPU is
/// reported (<c>clientCpuUsPerWrite</c>, <c>clientCores</c>), with the server's, Redis's and the whole machine's; a run in
/// which the machine is not busy on both cores was limited by waiting (round trips), not by anyone's CPU. The default
/// client (<c>--client socket</c>) writes one prepared request over a plain keep-alive socket and reads the answer's
/// status and end, like the receivers (<see cref="HttpSocketResponse"/>); <c>HttpClient</c> over
/// <c>SocketsHttpHandler</c> (<c>--client httpclient</c>), what an app's caller would use, cost the client about 1.4 times
/// as much CPU per write (49 against 36 µs in memory, 77 against 56 µs on Redis), all of it taken from the server.
/// </remarks>
internal static class WriteRunner
{
    // About the size of a chat message; the server adds the id it assigns.
    internal static readonly byte[] Body = Encoding.UTF8.GetBytes("{\"author\":\"bench\",\"text\":\"a message of about the size a chat app sends, to measure writes\"}");

    public static async Task<int> RunAsync(WriteOptions options)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(options.TimeoutSeconds));
        var ct = timeout.Token;
        using var control = new HttpClient { BaseAddress = options.Server, Timeout = TimeSpan.FromSeconds(30) };
        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = options.Concurrency,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        using var client = new HttpClient(handler) { BaseAddress = options.Server, Timeout = TimeSpan.FromSeconds(30) };
        var uri = new Uri("/" + Payload.Collection, UriKind.Relative);
        var contentType = new MediaTypeHeaderValue("application/json");
        var sockets = new SocketClient[options.Client == "socket" ? options.Concurrency : 0];
        for (var i = 0; i < sockets.Length; i++)
        {
            sockets[i] = await SocketClient.ConnectAsync(options.Server, ct);
        }

        try
        {
            return await MeasureAsync(options, control, client, uri, contentType, sockets, ct);
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }
    }

    private static async Task<int> MeasureAsync(WriteOptions options, HttpClient control, HttpClient client, Uri uri, MediaTypeHeaderValue contentType, SocketClient[] sockets, CancellationToken ct)
    {
        Task<(long Failures, int FirstFailure)> DriveAsync(int count, LatencyHistogram? latency) => sockets.Length > 0
            ? DriveSocketsAsync(sockets, count, latency, ct)
            : DriveHttpClientAsync(client, uri, contentType, count, options.Concurrency, latency, ct);

        // Unrecorded: both sides' code compiled and tiered up, the connections opened, the pools grown.
        var warmup = await DriveAsync(options.WarmupRequests, null);
        if (warmup.Failures > 0)
        {
            Console.Error.WriteLine($"{warmup.Failures} of the warm-up's writes failed; first status {warmup.FirstFailure}.");
            return 2;
        }

        var before = await StatsAsync(control, ct);
        var redisBefore = await RedisInfo.ReadAsync(options.Redis, ct);
        var clientBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var machineBefore = MachineCpu.Busy();
        var latency = new LatencyHistogram();
        var start = Stopwatch.GetTimestamp();
        var run = await DriveAsync(options.Requests, latency);
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var clientCpu = Process.GetCurrentProcess().TotalProcessorTime - clientBefore;
        var machineCpu = MachineCpu.Busy() - machineBefore;
        var redisAfter = await RedisInfo.ReadAsync(options.Redis, ct);
        var after = await StatsAsync(control, ct);

        var writes = (double)options.Requests;
        var result = new Dictionary<string, object?>
        {
            ["kind"] = "writes",
            ["mode"] = after.GetProperty("store").GetString(),
            ["method"] = "POST",
            ["client"] = options.Client,
            ["requests"] = options.Requests,
            ["concurrency"] = options.Concurrency,
            ["warmupRequests"] = options.WarmupRequests,
            ["machineDamon"] = MachineCpu.Damon(),
            ["failures"] = run.Failures,
            ["firstFailureStatus"] = run.FirstFailure,
            ["seconds"] = Math.Round(seconds, 4),
            ["writesPerSecond"] = Math.Round(writes / seconds),
            ["p50Us"] = latency.Percentile(0.50),
            ["p99Us"] = latency.Percentile(0.99),
            ["clientCpuUsPerWrite"] = Math.Round(clientCpu.TotalMilliseconds * 1000 / writes, 2),
            // How many of the two cores the client kept busy: near 1 or more, and it may be what limits the run.
            ["clientCores"] = Math.Round(clientCpu.TotalSeconds / seconds, 2),
            ["serverCpuUsPerWrite"] = Math.Round((after.GetProperty("cpuMs").GetDouble() - before.GetProperty("cpuMs").GetDouble()) * 1000 / writes, 2),
            ["serverCores"] = Math.Round((after.GetProperty("cpuMs").GetDouble() - before.GetProperty("cpuMs").GetDouble()) / 1000 / seconds, 2),
            ["serverAllocatedBytesPerWrite"] = Math.Round((after.GetProperty("allocatedBytes").GetInt64() - before.GetProperty("allocatedBytes").GetInt64()) / writes),
            ["serverGen0"] = after.GetProperty("gen0").GetInt32() - before.GetProperty("gen0").GetInt32(),
            // The whole machine (10 ms ticks): both processes, Redis, the kernel's loopback; 2.0 is both cores.
            ["machineCores"] = Math.Round(machineCpu.TotalSeconds / seconds, 2),
            ["machineCpuUsPerWrite"] = Math.Round(machineCpu.TotalMilliseconds * 1000 / writes, 2),
        };
        RedisInfo.Add(result, redisBefore, redisAfter, writes, "Write");
        if (redisBefore is not null && redisAfter is not null)
        {
            result["redisCores"] = Math.Round((redisAfter.CpuSeconds - redisBefore.CpuSeconds) / seconds, 2);
        }

        Console.WriteLine(JsonSerializer.Serialize(result));
        return run.Failures == 0 ? 0 : 2;
    }

    // `count` POSTs from `concurrency` workers, each awaiting its answer before the next; latencies into `latency`.
    private static async Task<(long Failures, int FirstFailure)> DriveHttpClientAsync(HttpClient client, Uri uri, MediaTypeHeaderValue contentType, int count, int concurrency, LatencyHistogram? latency, CancellationToken ct)
    {
        var next = 0;
        long failures = 0;
        var firstFailure = 0;
        var workers = new Task[concurrency];
        for (var w = 0; w < concurrency; w++)
        {
            workers[w] = Task.Run(
                async () =>
                {
                    var sent = new long[1];
                    while (Interlocked.Increment(ref next) <= count)
                    {
                        using var content = new ByteArrayContent(Body);
                        content.Headers.ContentType = contentType;
                        sent[0] = Stopwatch.GetTimestamp();
                        using var response = await client.PostAsync(uri, content, ct);
                        latency?.Record(sent, Stopwatch.GetTimestamp());
                        if (response.StatusCode != HttpStatusCode.Created)
                        {
                            Interlocked.Increment(ref failures);
                            Interlocked.CompareExchange(ref firstFailure, (int)response.StatusCode, 0);
                        }
                    }
                },
                ct);
        }

        await Task.WhenAll(workers);
        return (failures, firstFailure);
    }

    // The same over the plain sockets, one worker per socket.
    private static async Task<(long Failures, int FirstFailure)> DriveSocketsAsync(SocketClient[] sockets, int count, LatencyHistogram? latency, CancellationToken ct)
    {
        var next = 0;
        long failures = 0;
        var firstFailure = 0;
        var workers = new Task[sockets.Length];
        for (var w = 0; w < sockets.Length; w++)
        {
            var socket = sockets[w];
            workers[w] = Task.Run(
                async () =>
                {
                    var sent = new long[1];
                    while (Interlocked.Increment(ref next) <= count)
                    {
                        sent[0] = Stopwatch.GetTimestamp();
                        var status = await socket.PostAsync(ct);
                        latency?.Record(sent, Stopwatch.GetTimestamp());
                        if (status != 201)
                        {
                            Interlocked.Increment(ref failures);
                            Interlocked.CompareExchange(ref firstFailure, status, 0);
                        }
                    }
                },
                ct);
        }

        await Task.WhenAll(workers);
        return (failures, firstFailure);
    }

    private static Task<JsonElement> StatsAsync(HttpClient control, CancellationToken ct) =>
        control.GetFromJsonAsync<JsonElement>(new Uri("/control/stats", UriKind.Relative), ct);
}

/// <summary>
/// One keep-alive HTTP/1.1 connection that sends the same prepared <c>POST</c> and reads each answer to its end before the
/// next (no pipelining), keeping only the status. The answer's body ends where its <c>Content-Length</c> says, or, when
/// chunked, with the last chunk (<c>0\r\n\r\n</c>): with one request in flight nothing follows it on the connection, and
/// the record's JSON holds no CRLF, so the end is found without decoding the chunks.
/// </summary>
internal sealed class SocketClient : IDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _request;
    private readonly byte[] _buffer = new byte[16 * 1024];

    private SocketClient(Socket socket, byte[] request)
    {
        _socket = socket;
        _request = request;
    }

    public static async Task<SocketClient> ConnectAsync(Uri server, CancellationToken ct)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Parse(server.Host), server.Port, ct);
        var head = Encoding.ASCII.GetBytes(string.Create(
            CultureInfo.InvariantCulture,
            $"POST /{Payload.Collection} HTTP/1.1\r\nHost: {server.Authority}\r\nContent-Type: application/json\r\nContent-Length: {WriteRunner.Body.Length}\r\n\r\n"));
        return new SocketClient(socket, [.. head, .. WriteRunner.Body]);
    }

    /// <summary>Sends the request and returns the answer's status once all of it has arrived.</summary>
    public async Task<int> PostAsync(CancellationToken ct)
    {
        await _socket.SendAsync(_request, SocketFlags.None, ct);
        var filled = 0;
        var headersEnd = -1;
        var status = 0;
        long bodyEnd = -1; // a Content-Length answer's end; -1 while unknown or chunked
        var chunked = false;
        while (true)
        {
            if (filled == _buffer.Length)
            {
                throw new InvalidDataException("An answer to a write is over 16 KiB.");
            }

            var read = await _socket.ReceiveAsync(_buffer.AsMemory(filled), SocketFlags.None, ct);
            if (read == 0)
            {
                throw new InvalidDataException("The server closed a keep-alive connection.");
            }

            filled += read;
            if (headersEnd < 0)
            {
                var end = _buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8);
                if (end < 0)
                {
                    continue;
                }

                headersEnd = end + 4;
                var headers = Encoding.ASCII.GetString(_buffer, 0, end);
                status = int.Parse(headers.AsSpan(9, 3), CultureInfo.InvariantCulture);
                foreach (var line in headers.Split("\r\n"))
                {
                    if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                    {
                        bodyEnd = headersEnd + long.Parse(line.AsSpan(15).Trim(), CultureInfo.InvariantCulture);
                    }
                    else if (line.StartsWith("Transfer-Encoding:", StringComparison.OrdinalIgnoreCase) && line.Contains("chunked", StringComparison.OrdinalIgnoreCase))
                    {
                        chunked = true;
                    }
                }

                if (!chunked && bodyEnd < 0)
                {
                    bodyEnd = headersEnd; // no body (a 204, or a problem without one)
                }
            }

            if (chunked ? filled - headersEnd >= 5 && _buffer.AsSpan(0, filled).EndsWith("0\r\n\r\n"u8) : filled >= bodyEnd)
            {
                return status;
            }
        }
    }

    public void Dispose() => _socket.Dispose();
}
