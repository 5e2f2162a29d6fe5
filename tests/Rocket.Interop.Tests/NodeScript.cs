using System;
using System.ComponentModel;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.Interop.Tests;

/// <summary>Runs one of the scripts of tests/node with <c>node</c>, bounded in time, and captures what it printed.</summary>
internal static class NodeScript
{
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError)
    {
        public override string ToString() =>
            $"exit code {ExitCode}\n--- stdout ---\n{StandardOutput}\n--- stderr ---\n{StandardError}";
    }

    public static string Directory => Path.Combine(RepositoryRoot.Path, "tests", "node");

    /// <summary>
    /// Runs <c>node &lt;script&gt; &lt;args…&gt;</c> in tests/node. Fails the test with a clear message when the npm packages
    /// are not installed or node cannot be started; kills the process tree and fails when it outlives <paramref name="timeout"/>.
    /// </summary>
    public static async Task<Result> RunAsync(string script, TimeSpan timeout, params string[] args)
    {
        using var process = new Process { StartInfo = StartInfo(script, args) };
        var output = new StringBuilder();
        var error = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (error) { error.AppendLine(e.Data); } } };
        try
        {
            process.Start();
        }
        catch (Win32Exception exception)
        {
            Assert.Fail($"Could not start `node` (is Node.js installed and on PATH?): {exception.Message}");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"node {script} did not exit within {timeout.TotalSeconds} s and was killed.\n" +
                new Result(-1, Snapshot(output), Snapshot(error)));
        }

        // WaitForExitAsync also waits for the redirected streams to reach their end.
        return new Result(process.ExitCode, Snapshot(output), Snapshot(error));
    }

    /// <summary>
    /// <c>node &lt;script&gt; &lt;args…&gt;</c> in tests/node, its output and error redirected as UTF-8. Fails the test with
    /// a clear message when the npm packages are not installed.
    /// </summary>
    public static ProcessStartInfo StartInfo(string script, params string[] args)
    {
        var directory = Directory;
        if (!System.IO.Directory.Exists(Path.Combine(directory, "node_modules")))
        {
            Assert.Fail($"{Path.Combine(directory, "node_modules")} is missing: run `npm ci` in {directory} (./test.sh does it).");
        }

        var startInfo = new ProcessStartInfo("node")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        startInfo.ArgumentList.Add(script);
        foreach (var arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }

        return startInfo;
    }

    private static string Snapshot(StringBuilder builder)
    {
        lock (builder)
        {
            return builder.ToString();
        }
    }
}
