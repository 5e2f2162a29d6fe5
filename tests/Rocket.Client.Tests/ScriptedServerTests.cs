using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Rocket.Client.Tests;

/// <summary>
/// A hand-written SSE server that says what a test needs a Rocket server never would: a patch that does not apply, a
/// legacy <c>update</c>, silence with no heartbeat. The document GET and each stream request follow a script.
/// </summary>
public sealed class ScriptedServerTests
{
    private const string Epoch = "0000abcd";

    private sealed class ScriptedServer : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _streams;
        private int _gets;

        private ScriptedServer(WebApplication app) => _app = app;

        public Uri CollectionUri => new(_app.Urls.Single() + "/things");

        public int Streams => Volatile.Read(ref _streams);

        public int Gets => Volatile.Read(ref _gets);

        public ConcurrentQueue<string?> LastEventIds { get; } = new();

        public static async Task<ScriptedServer> StartAsync(Func<int, string> document, Func<int, string?, string> stream)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            var app = builder.Build();
            ScriptedServer? server = null;
            app.MapGet("/things", async context =>
            {
                if (context.Request.Headers.Accept.ToString().Contains("text/event-stream", StringComparison.Ordinal))
                {
                    var n = Interlocked.Increment(ref server!._streams);
                    var lastEventId = context.Request.Headers["Last-Event-ID"].FirstOrDefault();
                    server.LastEventIds.Enqueue(lastEventId);
                    context.Response.ContentType = "text/event-stream";
                    await context.Response.WriteAsync(stream(n, lastEventId), context.RequestAborted);
                    await context.Response.Body.FlushAsync(context.RequestAborted);
                    try
                    {
                        // Hold the stream open (and silent) until the client goes.
                        await Task.Delay(Timeout.Infinite, context.RequestAborted);
                    }
                    catch (OperationCanceledException)
                    {
                    }

                    return;
                }

                var g = Interlocked.Increment(ref server!._gets);
                var (cursor, body) = Split(document(g));
                context.Response.Headers["Last-Event-ID"] = cursor;
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(body);
            });
            server = new ScriptedServer(app);
            await app.StartAsync();
            return server;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        private static (string Cursor, string Body) Split(string text)
        {
            var space = text.IndexOf(' ', StringComparison.Ordinal);
            return (text[..space], text[(space + 1)..]);
        }
    }

    private static string Patch(int sequence, string patch) => $"event: patch\nid: {Epoch}.{sequence}\ndata: {patch}\n\n";

    private static LiveCollectionClientOptions Options(Uri uri) => new()
    {
        CollectionUri = uri,
        InitialReconnectDelay = TimeSpan.FromMilliseconds(20),
        MaxReconnectDelay = TimeSpan.FromMilliseconds(200),
    };

    [Fact]
    public async Task PatchThatDoesNotApply_Refetches_SaysSo_AndResumesFromRefetchedCursor()
    {
        await using var server = await ScriptedServer.StartAsync(
            document: g => g == 1 ? Epoch + """.1 {"things":{"a":{"n":1}}}""" : Epoch + """.5 {"things":{"b":{"n":2}}}""",
            stream: (n, _) => n == 1 ? "retry: 10\n\n" + Patch(2, """[{"op":"remove","path":"/things/missing"}]""") : ": quiet\n\n");
        var changes = new ConcurrentQueue<CollectionChange>();
        await using var client = new LiveCollectionClient(Options(server.CollectionUri));
        client.Changed += (_, c) => changes.Enqueue(c);

        await client.StartAsync();
        await Transports.Eventually(() => server.Streams == 2, "the stream to be reopened after the refetch");

        var refetch = changes.Last();
        Assert.Equal(CollectionChangeKind.Refetch, refetch.Kind);
        Assert.Contains("did not apply", refetch.Reason, StringComparison.Ordinal);
        Assert.Equal($"{Epoch}.5", client.Cursor);
        Assert.Equal(["b"], client.Records.Keys);
        Assert.Equal([$"{Epoch}.1", $"{Epoch}.5"], server.LastEventIds);
        Assert.Equal(2, server.Gets);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task LegacyUpdate_AppliedAsReplaceOnlyWhenAsked(bool legacy)
    {
        await using var server = await ScriptedServer.StartAsync(
            document: _ => Epoch + """.1 {"things":{"a":{"n":1}}}""",
            stream: (n, _) => n == 1 ? Patch(2, """[{"op":"update","path":"/things/a","value":{"n":2}}]""") : string.Empty);
        var changes = new ConcurrentQueue<CollectionChange>();
        var options = Options(server.CollectionUri);
        options.LegacyUpdateAsReplace = legacy;
        await using var client = new LiveCollectionClient(options);
        client.Changed += (_, c) => changes.Enqueue(c);

        await client.StartAsync();
        await Transports.Eventually(() => changes.Count == 2, "the update to be handled");

        if (legacy)
        {
            Assert.Equal(CollectionChangeKind.Patch, changes.Last().Kind);
            Assert.Equal(2, client.Records["a"].GetProperty("n").GetInt32());
            Assert.Equal($"{Epoch}.2", client.Cursor);
        }
        else
        {
            Assert.Equal(CollectionChangeKind.Refetch, changes.Last().Kind);
            Assert.Contains("not a JSON Patch", changes.Last().Reason, StringComparison.Ordinal);
            Assert.Equal(1, client.Records["a"].GetProperty("n").GetInt32());
        }
    }

    [Fact]
    public async Task SilentStream_IdleTimeout_ReconnectsFromLastCursor()
    {
        await using var server = await ScriptedServer.StartAsync(
            document: _ => Epoch + """.1 {"things":{}}""",
            stream: (n, _) => n == 1 ? Patch(2, """[{"op":"add","path":"/things/a","value":{}}]""") : ": heartbeat\n\n");
        var reasons = new ConcurrentQueue<string?>();
        var options = Options(server.CollectionUri);

        // Short, so the test does not wait long; nothing below depends on its value.
        options.IdleTimeout = TimeSpan.FromMilliseconds(400);
        await using var client = new LiveCollectionClient(options);
        client.Reconnecting += (_, s) => reasons.Enqueue(s.Reason);

        await client.StartAsync();
        await Transports.Eventually(() => server.LastEventIds.Contains($"{Epoch}.2"), "a reconnect after the idle timeout, from the event received");

        Assert.Contains(reasons, r => r?.StartsWith("no data for", StringComparison.Ordinal) == true);
        Assert.Equal($"{Epoch}.1", server.LastEventIds.First());
    }
}
