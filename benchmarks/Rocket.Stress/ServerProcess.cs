using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.Stress;

/// <summary>Server statistics from <c>/control/stats</c>.</summary>
internal sealed record ServerStats(int Subscribers, long Heap, long Rss, string Cursor);

/// <summary>
/// A stress server in a child process of its own, so what it holds is measured apart from the clients: its resident
/// memory and peak (from /proc), its managed heap after a full collection (from the control API).
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Process, byte> Running = new();

    static ServerProcess()
    {
        // A driver stopped by run-stress.sh's timeout (SIGTERM) takes its servers with it.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var process in Running.Keys)
            {
                try
                {
                    process.Kill();
                }
                catch (InvalidOperationException)
                {
                }
            }
        };
    }
    private readonly Process _process;

    private ServerProcess(Process process, int port)
    {
        _process = process;
        Port = port;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(120) };
    }

    public int Port { get; }

    public int Pid => _process.Id;

    public HttpClient Http { get; }

    public bool HasExited => _process.HasExited;

    public static async Task<ServerProcess> StartAsync(int sendBuffer = 0)
    {
        var port = FreePort();
        var self = Environment.ProcessPath!;
        var info = new ProcessStartInfo(self) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            info.ArgumentList.Add(typeof(ServerProcess).Assembly.Location);
        }

        info.ArgumentList.Add("server");
        info.ArgumentList.Add("--port");
        info.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
        info.ArgumentList.Add("--send-buffer");
        info.ArgumentList.Add(sendBuffer.ToString(CultureInfo.InvariantCulture));
        var process = Process.Start(info)!;
        Running.TryAdd(process, 0);
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Console.Error.WriteLine($"[server] {e.Data}");
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(process, port);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                await server.StatsAsync(collect: false);
                return server;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                await Task.Delay(100);
            }
        }
    }

    public async Task<ServerStats> StatsAsync(bool collect) =>
        (await Http.GetFromJsonAsync<ServerStats>($"control/stats?collect={(collect ? "true" : "false")}", Json))!;

    public async Task<JsonElement> PostAsync(string path)
    {
        using var response = await Http.PostAsync(path, null);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Waits until the collection has <paramref name="count"/> subscribers; false if it did not within the time.</summary>
    public async Task<bool> WaitForSubscribersAsync(Func<int, bool> done, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            if (done((await StatsAsync(collect: false)).Subscribers))
            {
                return true;
            }

            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Resident memory now, from /proc.</summary>
    public long Rss => ReadStatus("VmRSS:");

    /// <summary>Peak resident memory since the last <see cref="ResetPeak"/>, from /proc.</summary>
    public long PeakRss => ReadStatus("VmHWM:");

    /// <summary>Starts a new peak: writing 5 to clear_refs resets the kernel's high-water mark to the current RSS.</summary>
    public void ResetPeak() => File.WriteAllText($"/proc/{_process.Id}/clear_refs", "5");

    /// <summary>SIGTERM, as a process manager stopping the server.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        Running.TryRemove(_process, out _);
        _process.Dispose();
    }

    private long ReadStatus(string field)
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"No {field} in /proc/{_process.Id}/status.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
