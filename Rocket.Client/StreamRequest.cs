using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.Client;

/// <summary>What a connector needs to open one stream: where, from which cursor, and the caller's hooks.</summary>
public sealed class StreamRequest
{
    /// <summary>Creates a request.</summary>
    public StreamRequest(Uri collectionUri, string collectionName, string? lastEventId, HttpClient httpClient, LiveCollectionClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(collectionUri);
        ArgumentNullException.ThrowIfNull(collectionName);
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(options);
        CollectionUri = collectionUri;
        CollectionName = collectionName;
        LastEventId = lastEventId;
        HttpClient = httpClient;
        Options = options;
    }

    /// <summary>The collection's URL (<c>http://host/messages</c>).</summary>
    public Uri CollectionUri { get; }

    /// <summary>The collection's name, the first segment of every patch path.</summary>
    public string CollectionName { get; }

    /// <summary>The cursor to resume after; null to start with a reset.</summary>
    public string? LastEventId { get; }

    /// <summary>The client's <see cref="HttpClient"/> (for HTTP transports).</summary>
    public HttpClient HttpClient { get; }

    /// <summary>The client's options: idle timeout, headers, cookies, access token.</summary>
    public LiveCollectionClientOptions Options { get; }

    /// <summary>The headers to send: <see cref="LiveCollectionClientOptions.Headers"/> plus <c>Authorization: Bearer</c> from the token provider.</summary>
    public async ValueTask<IReadOnlyList<KeyValuePair<string, string>>> GetHeadersAsync(CancellationToken cancellationToken = default)
    {
        var headers = new List<KeyValuePair<string, string>>(Options.Headers);
        if (Options.AccessTokenProvider is { } provider && await provider(cancellationToken).ConfigureAwait(false) is { Length: > 0 } token)
        {
            headers.Add(new("Authorization", "Bearer " + token));
        }

        return headers;
    }

    /// <summary>The cookies to send, if the caller gave a container.</summary>
    public CookieContainer? Cookies => Options.Cookies;
}
