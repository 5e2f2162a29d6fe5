using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Rocket.Watch;

namespace Rocket.Client.Tests;

public sealed class WatchCommandTests
{
    [Theory]
    [InlineData("sse")]
    [InlineData("websocket")]
    [InlineData("signalr")]
    public async Task Watch_WithCount_PrintsEachChangeThenTheDocument(string transport)
    {
        await using var server = await ClientTestServer.StartAsync();
        server.Collection.Create("a", """{"text":"first"}"""u8);
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var run = WatchCommand.RunAsync([server.CollectionUri.ToString(), "--transport", transport, "--count", "2", "--print-document"], stdout, stderr);
        await Transports.Eventually(() => server.Collection.SubscriberCount == 1 || run.IsCompleted, "the watch to subscribe");
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
        await using var server = await ClientTestServer.StartAsync();
        server.Collection.Create("a", """{"text":"first"}"""u8);
        var stdout = new StringWriter();

        var run = WatchCommand.RunAsync([server.CollectionUri.ToString(), "--transport", transport, "--stream-only", "--count", "2", .. more], stdout, new StringWriter());
        await Transports.Eventually(() => stdout.ToString().Contains("reset", StringComparison.Ordinal) || run.IsCompleted, "the reset");
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
        var port = ClientTestServer.FreePort();
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
}
