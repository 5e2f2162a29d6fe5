using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Microsoft.AspNetCore.SignalR.Client;
using Rocket.Client;
using Rocket.Interop.Tests;
using Rocket.Sample;

namespace Rocket.Sample.Tests;

/// <summary>
/// The sample server as a real process (its built dll run with <c>dotnet</c> on 127.0.0.1 and a free port), stopped the
/// way a deployment stops it, with SIGTERM: every transport's subscriber is told it is shutting down, the process exits
/// within the host's shutdown timeout, and a Rocket.Client reconnects to the next process on the same port and gets a
/// reset. A real browser is among the subscribers: headless Chromium on the sample page (the JavaScript client over SSE)
/// with its own EventSource beside it (tests/node/sample-shutdown-browser.mjs).
/// </summary>
public sealed class GracefulShutdownTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    // Passed to the process as the host's shutdown timeout (HostOptions.ShutdownTimeout, from --shutdownTimeoutSeconds).
    private const int ShutdownTimeoutSeconds = 10;

    [Fact]
    public async Task Sigterm_EveryTransportToldShuttingDown_ExitsWithinShutdownTimeout_ClientResetByTheNextProcess()
    {
        var port = FreePort();
        var baseUri = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/");
        // Generous: Chromium starts slowly on a loaded machine, and the browser's client waits out its backoff.
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var token = deadline.Token;
        using var http = new HttpClient { BaseAddress = baseUri, Timeout = Timeout };

        await using var first = await SampleProcess.StartAsync(port, token);
        using (var created = await http.PostAsync("messages", new StringContent("""{"text":"before the restart"}""", Encoding.UTF8, "application/json"), token))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        // SSE, read raw to its end.
        using var sseRequest = new HttpRequestMessage(HttpMethod.Get, "messages");
        sseRequest.Headers.Accept.ParseAdd("text/event-stream");
        using var sseResponse = await http.SendAsync(sseRequest, HttpCompletionOption.ResponseHeadersRead, token);
        var sseStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sse = ReadSseToEndAsync(await sseResponse.Content.ReadAsStreamAsync(token), sseStarted, token);

        // A WebSocket on the collection's URL, read to its close frame.
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("rocket.jsonpatch.v1");
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/messages"), token);
        var socketStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var webSocket = ReadWebSocketToCloseAsync(socket, socketStarted, token);

        // SignalR, with the hub's two client methods.
        await using var hub = new HubConnectionBuilder().WithUrl(new Uri(baseUri, "rocket")).Build();
        var hubStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hubClose = new TaskCompletionSource<(string Collection, string Status, string Reason)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var hubClosed = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        hub.On<string, string, bool, object>("patch", (_, _, _, _) => hubStarted.TrySetResult());
        hub.On<string, string, string>("close", (collection, status, reason) => hubClose.TrySetResult((collection, status, reason)));
        hub.Closed += error =>
        {
            hubClosed.TrySetResult(error);
            return Task.CompletedTask;
        };
        await hub.StartAsync(token);
        await hub.InvokeAsync("Subscribe", "messages", null, token);

        // Rocket.Client over SSE, reconnecting by itself.
        var changes = Channel.CreateUnbounded<CollectionChange>();
        var states = Channel.CreateUnbounded<ConnectionState>();
        await using var client = new LiveCollectionClient(new LiveCollectionClientOptions
        {
            CollectionUri = new Uri(baseUri, "messages"),
            // Kept short so the test does not wait long for the next process; the jitter stays on.
            MaxReconnectDelay = TimeSpan.FromSeconds(1),
        });
        client.Changed += (_, change) => changes.Writer.TryWrite(change);
        client.StateChanged += (_, change) => states.Writer.TryWrite(change.State);
        await client.StartAsync(token);
        Assert.Contains(client.Records.Values, r => r.GetProperty("text").GetString() == "before the restart");

        await Task.WhenAll(sseStarted.Task, socketStarted.Task, hubStarted.Task).WaitAsync(Timeout, token);
        await WaitForStateAsync(states, ConnectionState.Live, token);

        // The browser: the sample page's client and an EventSource, both live before the signal.
        await using var browser = BrowserScript.Start(baseUri);
        await browser.WaitForStepAsync("ready", BrowserTimeout, token);

        // SIGTERM, as systemd, Kubernetes and docker stop send it.
        using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", first.Id.ToString(CultureInfo.InvariantCulture)]))!)
        {
            await kill.WaitForExitAsync(token);
            Assert.Equal(0, kill.ExitCode);
        }

        var sseText = await sse.WaitAsync(Timeout, token);
        var (closeStatus, closeDescription, lastMessage) = await webSocket.WaitAsync(Timeout, token);
        var hubError = await hubClosed.Task.WaitAsync(Timeout, token);
        Assert.True(hubClose.Task.IsCompleted, $"the hub connection closed ({hubError?.Message}) without a close message");
        var hubCloseMessage = await hubClose.Task;
        Assert.Contains("ShuttingDown: ", hubError?.Message, StringComparison.Ordinal); // SignalR's close message, with the hub error
        var exitCode = await first.WaitForExitAsync(TimeSpan.FromSeconds(ShutdownTimeoutSeconds), token);

        Assert.Contains("event: close\ndata: {\"status\":\"ShuttingDown\",\"reason\":", sseText, StringComparison.Ordinal);
        Assert.EndsWith("\n\n", sseText, StringComparison.Ordinal);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, closeStatus);
        Assert.False(string.IsNullOrEmpty(closeDescription));
        Assert.Equal("close", lastMessage.GetProperty("type").GetString());
        Assert.Equal("ShuttingDown", lastMessage.GetProperty("status").GetString());
        Assert.Equal(("messages", "ShuttingDown"), (hubCloseMessage.Collection, hubCloseMessage.Status));
        Assert.True(exitCode == 0, $"exit code {exitCode}; output:\n{first.Output}");
        await WaitForStateAsync(states, ConnectionState.Reconnecting, token);

        // The browser's EventSource got the `close` event with ShuttingDown, and the page's client took it as its reason
        // to reconnect (the script checks both).
        var told = await browser.WaitForStepAsync("told", BrowserTimeout, token);
        Assert.Equal("ShuttingDown", told.GetProperty("close").GetProperty("status").GetString());

        // The next process on the same port: the client comes back by itself, and its cursor (of the first process's
        // epoch) gets a reset to the new, empty collection.
        await using var second = await SampleProcess.StartAsync(port, token);
        CollectionChange reset;
        do
        {
            reset = await changes.Reader.ReadAsync(token).AsTask().WaitAsync(Timeout, token);
        }
        while (reset.Kind != CollectionChangeKind.Reset);

        await WaitForStateAsync(states, ConnectionState.Live, token);
        Assert.Empty(client.Records);
        using (var created = await http.PostAsync("messages", new StringContent("""{"text":"after the restart"}""", Encoding.UTF8, "application/json"), token))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var live = await changes.Reader.ReadAsync(token).AsTask().WaitAsync(Timeout, token);
        Assert.Equal(CollectionChangeKind.Patch, live.Kind);
        Assert.Contains(client.Records.Values, r => r.GetProperty("text").GetString() == "after the restart");

        // The browser's client and EventSource each came back by themselves, were reset to the new epoch (the
        // EventSource asking with its old cursor in Last-Event-ID) and show the record made after the restart.
        await browser.WaitForStepAsync("ok", BrowserRestartTimeout, token);
        await browser.WaitForExitAsync(Timeout, token);
    }

    // Each of the browser's steps (Chromium starting, a wait in the page); the last one includes the page's client waiting
    // out its backoff, which grows while no server answers.
    private static readonly TimeSpan BrowserTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan BrowserRestartTimeout = TimeSpan.FromSeconds(120);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static async Task WaitForStateAsync(Channel<ConnectionState> states, ConnectionState wanted, CancellationToken cancellationToken)
    {
        while (await states.Reader.ReadAsync(cancellationToken).AsTask().WaitAsync(Timeout, cancellationToken) != wanted)
        {
        }
    }

    private static async Task<string> ReadSseToEndAsync(Stream stream, TaskCompletionSource started, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        var buffer = new byte[16 * 1024];
        var decoder = Encoding.UTF8.GetDecoder();
        var chars = new char[buffer.Length];
        while (true)
        {
            var read = await stream.ReadAsync(buffer, cancellationToken);
            if (read == 0)
            {
                return text.ToString();
            }

            text.Append(chars, 0, decoder.GetChars(buffer, 0, read, chars, 0));
            if (text.ToString().Contains("event: patch\n", StringComparison.Ordinal))
            {
                started.TrySetResult();
            }
        }
    }

    // Returns the close frame's code and reason and the last message before it; answers the close as a client should.
    private static async Task<(WebSocketCloseStatus? Status, string? Description, JsonElement LastMessage)> ReadWebSocketToCloseAsync(
        ClientWebSocket socket, TaskCompletionSource started, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        JsonElement last = default;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cancellationToken);
                return (socket.CloseStatus, socket.CloseStatusDescription, last);
            }

            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                last = JsonElement.Parse(message.ToArray());
                message.SetLength(0);
                started.TrySetResult();
            }
        }
    }

    /// <summary>The sample's built dll run with <c>dotnet</c>, its output kept for a failure's message; killed by PID if still running at the end.</summary>
    private sealed class SampleProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();
        private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private SampleProcess(Process process) => _process = process;

        public int Id => _process.Id;

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        public static async Task<SampleProcess> StartAsync(int port, CancellationToken cancellationToken)
        {
            // The sample's assembly is copied beside the tests with its runtimeconfig.json and deps.json.
            var dll = typeof(SampleApp).Assembly.Location;
            var info = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = Path.GetDirectoryName(dll)!,
            };
            foreach (var argument in new[]
            {
                dll,
                "--urls", $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}",
                "--shutdownTimeoutSeconds", ShutdownTimeoutSeconds.ToString(CultureInfo.InvariantCulture),
                "--environment", "Production",
                "--Logging:LogLevel:Default", "Warning",
                // "Application started." is the signal that it listens.
                "--Logging:LogLevel:Microsoft.Hosting.Lifetime", "Information",
                "--Logging:Console:FormatterName", "simple",
            })
            {
                info.ArgumentList.Add(argument);
            }

            var process = new Process { StartInfo = info, EnableRaisingEvents = true };
            var sample = new SampleProcess(process);
            process.OutputDataReceived += (_, e) => sample.OnLine(e.Data);
            process.ErrorDataReceived += (_, e) => sample.OnLine(e.Data);
            process.Exited += (_, _) => sample._started.TrySetException(new InvalidOperationException("the sample exited before it started:\n" + sample.Output));
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                await sample._started.Task.WaitAsync(Timeout, cancellationToken);
            }
            catch
            {
                await sample.DisposeAsync();
                throw;
            }

            return sample;
        }

        /// <summary>Waits for the process to exit, at most <paramref name="within"/>; its exit code.</summary>
        public async Task<int> WaitForExitAsync(TimeSpan within, CancellationToken cancellationToken)
        {
            try
            {
                await _process.WaitForExitAsync(cancellationToken).WaitAsync(within, cancellationToken);
            }
            catch (TimeoutException)
            {
                Assert.Fail($"the process did not exit within {within.TotalSeconds} s of SIGTERM; output:\n{Output}");
            }

            return _process.ExitCode;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
        }

        private void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_output)
            {
                _output.AppendLine(line);
            }

            if (line.Contains("Application started", StringComparison.Ordinal))
            {
                _started.TrySetResult();
            }
        }
    }

    /// <summary>
    /// tests/node/sample-shutdown-browser.mjs run with <c>node</c> against the sample: it prints one JSON line a step
    /// (<c>ready</c>, <c>told</c>, then the summary with <c>ok</c>), read here as they come; killed with its browser if
    /// still running at the end.
    /// </summary>
    private sealed class BrowserScript : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
        private readonly StringBuilder _output = new();

        private BrowserScript(Process process) => _process = process;

        public static BrowserScript Start(Uri baseUri)
        {
            var process = new Process { StartInfo = NodeScript.StartInfo("sample-shutdown-browser.mjs", baseUri.GetLeftPart(UriPartial.Authority)) };
            var script = new BrowserScript(process);
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null)
                {
                    script._lines.Writer.TryComplete();
                    return;
                }

                script.Append(e.Data);
                script._lines.Writer.TryWrite(e.Data);
            };
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    script.Append(e.Data);
                }
            };
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return script;
        }

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        /// <summary>The next line that is a JSON object with the property <paramref name="step"/>; fails if the script ends or takes longer.</summary>
        public async Task<JsonElement> WaitForStepAsync(string step, TimeSpan within, CancellationToken cancellationToken)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(within);
            try
            {
                await foreach (var line in _lines.Reader.ReadAllAsync(timeout.Token))
                {
                    if (line.StartsWith('{') && JsonElement.Parse(line) is { ValueKind: JsonValueKind.Object } json && json.TryGetProperty(step, out _))
                    {
                        return json;
                    }
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                Assert.Fail($"the browser did not reach '{step}' within {within.TotalSeconds} s; its output:\n{Output}");
            }

            await _process.WaitForExitAsync(cancellationToken);
            Assert.Fail($"the browser ended (exit code {_process.ExitCode}) before '{step}'; its output:\n{Output}");
            return default;
        }

        public async Task WaitForExitAsync(TimeSpan within, CancellationToken cancellationToken)
        {
            await _process.WaitForExitAsync(cancellationToken).WaitAsync(within, cancellationToken);
            Assert.True(_process.ExitCode == 0, $"the browser script exited with {_process.ExitCode}; its output:\n{Output}");
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
        }

        private void Append(string line)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
