using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Rocket.Live;
using Rocket.Watch;

namespace Rocket.Sample.Tests;

/// <summary>The watch tool (samples/Rocket.Watch) against the sample server, on every transport.</summary>
public sealed class WatchCommandTests
{
    [Theory]
    [InlineData("sse")]
    [InlineData("websocket")]
    [InlineData("signalr")]
    public async Task Watch_WithCount_PrintsEachChangeThenTheDocument(string transport)
    {
        await using var server = await SampleServer.StartAsync();
        server.Collection.Create("a", """{"text":"first"}"""u8);
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var run = WatchCommand.RunAsync([server.CollectionUri.ToString(), "--transport", transport, "--count", "2", "--print-document"], stdout, stderr);
        await Eventually(() => server.Collection.SubscriberCount == 1 || run.IsCompleted, "the watch to subscribe");
        server.Collection.Create("b", """{"text":"second"}"""u8);
        server.Collection.Delete("a");
        var exit = await run.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(0, exit);
        var epoch = server.Collection.Cursor.ToString()[..8];
        var lines = stdout.ToString().Split('\n');
        Assert.Equal([$"{epoch}.1 get 1 records", $"{epoch}.2 add b", $"{epoch}.3 remove a"], lines.Take(3));
        Assert.Contains("\"second\"", string.Join('\n', lines.Skip(3)), StringComparison.Ordinal);
        Assert.Equal(string.Empty, stderr.ToString());
    }

    [Theory]
    [InlineData("sse")]
    [InlineData("signalr", "--protocol", "messagepack")]
    public async Task Watch_StreamOnly_PrintsTheResetThenChanges(string transport, params string[] more)
    {
        await using var server = await SampleServer.StartAsync();
        server.Collection.Create("a", """{"text":"first"}"""u8);
        var stdout = new StringWriter();

        var run = WatchCommand.RunAsync([server.CollectionUri.ToString(), "--transport", transport, "--stream-only", "--count", "2", .. more], stdout, new StringWriter());
        await Eventually(() => stdout.ToString().Contains("reset", StringComparison.Ordinal) || run.IsCompleted, "the reset");
        server.Collection.Update("a", """{"text":"second"}"""u8);
        var exit = await run.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(0, exit);
        var epoch = server.Collection.Cursor.ToString()[..8];
        Assert.Equal([$"{epoch}.1 reset 1 records", $"{epoch}.2 replace a", string.Empty], stdout.ToString().Split('\n'));
    }

    [Theory]
    [InlineData("sse")]
    [InlineData("websocket")]
    [InlineData("signalr")]
    public async Task Watch_ConnectionRefused_OneLineErrorAndExit1(string transport)
    {
        var port = FreePort();
        var stderr = new StringWriter();

        var exit = await WatchCommand.RunAsync([$"http://127.0.0.1:{port}/messages", "--transport", transport], new StringWriter(), stderr);

        Assert.Equal(1, exit);
        var error = stderr.ToString().TrimEnd('\n');
        Assert.DoesNotContain('\n', error);
        Assert.StartsWith($"rocket-watch: cannot watch http://127.0.0.1:{port}/messages over {transport}:", error, StringComparison.Ordinal);
        Assert.Contains("refused", error, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not a url")]
    [InlineData("ftp://example.com/messages")]
    [InlineData("http://127.0.0.1:5080/")]
    public async Task Watch_BadUrl_UsageAndExit1(string url)
    {
        var stderr = new StringWriter();

        var exit = await WatchCommand.RunAsync([url], new StringWriter(), stderr);

        Assert.Equal(1, exit);
        Assert.StartsWith("rocket-watch: ", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains("is not a collection URL", stderr.ToString(), StringComparison.Ordinal);
    }
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task Eventually(Func<bool> condition, string what)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (!condition())
        {
            if (timeout.IsCancellationRequested)
            {
                Assert.Fail($"Timed out waiting for: {what}");
            }

            await Task.Delay(10);
        }
    }

    // The sample app on 127.0.0.1:0, and its messages collection to write to directly.
    private sealed class SampleServer : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private SampleServer(WebApplication app)
        {
            _app = app;
            Collection = app.Services.GetRequiredService<CollectionRegistry>().GetCollection("messages");
        }

        public LiveCollection Collection { get; }

        public Uri CollectionUri => new(_app.Urls.Single() + "/messages");

        public static async Task<SampleServer> StartAsync()
        {
            var app = SampleApp.Create(["--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning"]);
            await app.StartAsync();
            return new SampleServer(app);
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
