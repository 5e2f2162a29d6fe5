using System;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.Client;

/// <summary>The client's HTTP requests: every one carries the caller's headers and token; the document GET.</summary>
internal static class ClientRequests
{
    /// <summary>A GET of <paramref name="uri"/> with <see cref="LiveCollectionClientOptions.Headers"/> and the bearer token.</summary>
    public static async ValueTask<HttpRequestMessage> CreateAsync(Uri uri, LiveCollectionClientOptions options, CancellationToken cancellationToken)
    {
        var message = new HttpRequestMessage(HttpMethod.Get, uri);
        foreach (var header in options.Headers)
        {
            message.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        if (options.AccessTokenProvider is { } provider && await provider(cancellationToken).ConfigureAwait(false) is { Length: > 0 } token)
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return message;
    }

    /// <summary>GETs the keyed document (<c>?form=keyed</c>) and the cursor of the state it shows.</summary>
    /// <exception cref="HttpRequestException">The server refused, or did not answer with a keyed document of <paramref name="collectionName"/>.</exception>
    public static async Task<(JsonObject Document, string? Cursor)> FetchDocumentAsync(
        Uri collectionUri, string collectionName, HttpClient http, LiveCollectionClientOptions options, CancellationToken cancellationToken)
    {
        var builder = new UriBuilder(collectionUri);
        var query = builder.Query.TrimStart('?');
        builder.Query = (query.Length > 0 ? query + "&" : string.Empty) + "form=keyed";
        using var request = await CreateAsync(builder.Uri, options, cancellationToken).ConfigureAwait(false);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        options.ConfigureRequest?.Invoke(request);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"GET {builder.Uri} failed: {(int)response.StatusCode} {response.ReasonPhrase}.", null, response.StatusCode);
        }

        var cursor = response.Headers.TryGetValues("Last-Event-ID", out var values) ? string.Join(",", values) : null;
        using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        JsonNode? node;
        try
        {
            node = await JsonNode.ParseAsync(body, CollectionCopy.NodeOptions, CollectionCopy.DocumentOptions, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            throw new HttpRequestException($"GET {builder.Uri} did not return JSON: {e.Message}", e);
        }

        if (node is not JsonObject document || document[collectionName] is not JsonObject)
        {
            throw new HttpRequestException($"GET {builder.Uri} did not return the keyed document {{\"{collectionName}\":{{...}}}}: is it a Rocket collection?");
        }

        return (document, cursor);
    }
}
