using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using Npgsql;

namespace Rocket.Postgres.Tests;

/// <summary>
/// A throwaway PostgreSQL cluster of the test's own: created with initdb in a temporary folder, started with
/// <c>wal_level=logical</c> on a free loopback port, stopped by its postmaster's PID. PostgreSQL refuses to run as root,
/// so as root the cluster belongs to the <c>postgres</c> user (Debian's package creates it) and runs under <c>su</c>.
/// </summary>
public sealed class PostgresProcess : IAsyncDisposable
{
    private readonly string _directory;
    private readonly string _bin;

    private PostgresProcess(string directory, string bin, int port)
    {
        _directory = directory;
        _bin = bin;
        Port = port;
    }

    public int Port { get; }

    private string DataDirectory => Path.Combine(_directory, "data");

    /// <summary>A connection string as the app would use it: quick to give up while the server is down.</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=rocket;Database=postgres;Timeout=3;Command Timeout=10;Include Error Detail=true";

    public static async Task<PostgresProcess> StartAsync()
    {
        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0).FirstOrDefault()
            : null;
        if (bin is null)
        {
            throw new InvalidOperationException("PostgreSQL is not installed: test.sh installs Debian's postgresql (apt-get install postgresql); its binaries are looked for under /usr/lib/postgresql/*/bin.");
        }

        var directory = Directory.CreateTempSubdirectory("rocket-pg-").FullName;
        var postgres = new PostgresProcess(directory, bin, FreePort());
        if (Environment.UserName == "root")
        {
            await RunAsync("chown", "-R", "postgres:postgres", directory);
        }

        await RunAsPostgresAsync(Path.Combine(bin, "initdb"), "-D", postgres.DataDirectory, "-U", "rocket", "--auth=trust", "-E", "UTF8", "--no-sync");
        await postgres.RestartAsync();
        return postgres;
    }

    /// <summary>Starts the server (again, after <see cref="StopAsync"/>) on the same port and waits until it answers.</summary>
    public async Task RestartAsync()
    {
        var options = string.Join(' ',
            "-c wal_level=logical", $"-p {Port.ToString(CultureInfo.InvariantCulture)}", $"-k {_directory}", "-c listen_addresses=127.0.0.1",
            "-c max_wal_senders=10", "-c max_replication_slots=20", "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off");
        await RunAsPostgresAsync(Path.Combine(_bin, "pg_ctl"), "-D", DataDirectory, "-l", Path.Combine(_directory, "log"), "-o", options, "-w", "-t", "60", "start");

        // The test's own pooled connections died with the previous server.
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>Stops the server (fast shutdown: every connection is cut) by its postmaster's PID, and waits until it is gone.</summary>
    public async Task StopAsync()
    {
        var pidFile = Path.Combine(DataDirectory, "postmaster.pid");
        if (!File.Exists(pidFile))
        {
            return;
        }

        int pid;
        try
        {
            pid = int.Parse(File.ReadLines(pidFile).First(), CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return;
        }

        await RunAsync("kill", "-INT", pid.ToString(CultureInfo.InvariantCulture));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (File.Exists(pidFile) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        if (File.Exists(pidFile))
        {
            throw new InvalidOperationException($"PostgreSQL (PID {pid}) did not shut down within 30 s: {File.ReadAllText(Path.Combine(_directory, "log"))}");
        }
    }

    public async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>Runs SQL as psql would, in one implicit transaction per call (several statements: one transaction).</summary>
    public async Task<int> ExecuteAsync(string sql)
    {
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteNonQueryAsync();
    }

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is harmless.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static Task RunAsPostgresAsync(string file, params string[] arguments)
    {
        if (Environment.UserName != "root")
        {
            return RunAsync(file, arguments);
        }

        var command = string.Join(' ', new[] { file }.Concat(arguments).Select(Quote));
        return RunAsync("su", "postgres", "-s", "/bin/sh", "-c", command);
    }

    private static string Quote(string argument) => "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static async Task RunAsync(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed ({process.ExitCode}): {await output} {await error}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
