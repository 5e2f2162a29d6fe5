using System;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Net.WebSockets;
using System.Threading;
using System.Threading.Tasks;
using Rocket.Client;
using Rocket.Client.SignalR;
using Rocket.JsonPatch;

namespace Rocket.Watch;

/// <summary>
/// <c>kubectl get -w</c> for a Rocket collection: one line per change (<c>&lt;cursor&gt; &lt;op&gt; &lt;record id&gt;</c>) on
/// stdout, connection states on stderr, the final document with <c>--print-document</c>.
/// </summary>
public static class WatchCommand
{
    public const string Usage = "usage: rocket-watch <collection-url> [--transport sse|websocket|signalr] [--protocol json|messagepack] [--stream-only] [--count N] [--print-document]";

    /// <summary>Runs the tool; returns the exit code (0 done, 1 could not connect or bad arguments).</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        if (!TryParse(args, out var settings, out var error))
        {
            await stderr.WriteLineAsync($"rocket-watch: {error}\n{Usage}");
            return 1;
        }

        var options = new LiveCollectionClientOptions
        {
            CollectionUri = settings.Uri,
            FetchDocumentFirst = !settings.StreamOnly,
            Transport = settings.Transport switch
            {
                "websocket" => new WebSocketConnector(),
                "signalr" => new SignalRConnector { Protocol = settings.MessagePack ? SignalRHubProtocol.MessagePack : SignalRHubProtocol.Json },
                _ => new SseConnector(),
            },
        };

        using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var seen = 0;
        var output = TextWriter.Synchronized(stdout);
        var client = new LiveCollectionClient(options);
        await using (client.ConfigureAwait(false))
        {
            client.Changed += (_, change) =>
            {
                Print(output, change);

                // The document of the first GET is where watching starts, not a change.
                var counts = !(change.Kind == CollectionChangeKind.Refetch && change.Reason is null);
                if (counts && settings.Count is { } count && Interlocked.Increment(ref seen) >= count)
                {
                    done.Cancel();
                }
            };
            client.Reconnecting += (_, e) => stderr.WriteLine($"# reconnecting: {e.Reason}");
            client.Reconnected += (_, _) => stderr.WriteLine("# reconnected");

            try
            {
                await client.StartAsync(done.Token);
            }
            catch (OperationCanceledException) when (done.IsCancellationRequested)
            {
                return 0;
            }
            catch (Exception e) when (e is HttpRequestException or WebSocketException or IOException or InvalidOperationException or TimeoutException)
            {
                await stderr.WriteLineAsync($"rocket-watch: cannot watch {settings.Uri} over {options.Transport.Name}: {Describe(e)}");
                return 1;
            }

            try
            {
                await Task.Delay(Timeout.Infinite, done.Token);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C, or --count reached.
            }

            if (settings.PrintDocument)
            {
                output.WriteLine(client.GetDocumentJson(indented: true));
            }
        }

        return 0;
    }

    private static void Print(TextWriter output, CollectionChange change)
    {
        var cursor = change.Cursor ?? "-";
        switch (change.Kind)
        {
            case CollectionChangeKind.Patch:
                foreach (var operation in change.Operations)
                {
                    var id = operation.Path.Count >= 2 ? operation.Path[1] : operation.Path.ToString();
                    output.WriteLine($"{cursor} {JsonPatchOperation.GetName(operation.Op)} {id}");
                }

                break;
            case CollectionChangeKind.Reset:
                output.WriteLine($"{cursor} reset {change.RecordIds.Count} records");
                break;
            default:
                output.WriteLine(change.Reason is null
                    ? $"{cursor} get {change.RecordIds.Count} records"
                    : $"{cursor} refetch {change.RecordIds.Count} records ({change.Reason})");
                break;
        }
    }

    // The innermost message says what went wrong ("Connection refused (127.0.0.1:1)"); the outer ones say where.
    private static string Describe(Exception e)
    {
        var message = e.Message;
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (!message.Contains(inner.Message, StringComparison.Ordinal))
            {
                message += ": " + inner.Message;
            }
        }

        return message.ReplaceLineEndings(" ");
    }

    private static bool TryParse(string[] args, out Settings settings, out string? error)
    {
        settings = new Settings();
        error = null;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            string? Next() => i + 1 < args.Length ? args[++i] : null;
            switch (arg)
            {
                case "--transport":
                    settings.Transport = Next() ?? string.Empty;
                    if (settings.Transport is not ("sse" or "websocket" or "signalr"))
                    {
                        error = $"unknown transport '{settings.Transport}': sse, websocket or signalr";
                        return false;
                    }

                    break;
                case "--protocol":
                    var protocol = Next();
                    if (protocol is not ("json" or "messagepack"))
                    {
                        error = $"unknown protocol '{protocol}': json or messagepack";
                        return false;
                    }

                    settings.MessagePack = protocol == "messagepack";
                    break;
                case "--count":
                    if (!int.TryParse(Next(), out var count) || count < 1)
                    {
                        error = "--count needs a positive number";
                        return false;
                    }

                    settings.Count = count;
                    break;
                case "--print-document":
                    settings.PrintDocument = true;
                    break;
                case "--stream-only":
                    settings.StreamOnly = true;
                    break;
                case "-h" or "--help":
                    error = "help";
                    return false;
                default:
                    if (arg.StartsWith('-') || settings.Uri is not null)
                    {
                        error = $"unexpected argument '{arg}'";
                        return false;
                    }

                    if (!Uri.TryCreate(arg, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.Segments.Last().Trim('/').Length == 0)
                    {
                        error = $"'{arg}' is not a collection URL such as http://127.0.0.1:5080/messages";
                        return false;
                    }

                    settings.Uri = uri;
                    break;
            }
        }

        if (settings.Uri is null)
        {
            error = "no collection URL";
            return false;
        }

        return true;
    }

    private sealed class Settings
    {
        public Uri? Uri { get; set; }

        public string Transport { get; set; } = "sse";

        public bool MessagePack { get; set; }

        public int? Count { get; set; }

        public bool PrintDocument { get; set; }

        public bool StreamOnly { get; set; }
    }
}
