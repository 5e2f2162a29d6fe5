using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Rocket.AspNetCore;

namespace Rocket.AspNetCore.Tests;

/// <summary>
/// <c>MapRocketClientScript</c> on a real Kestrel server: the embedded module is clients/js/rocket-client.js byte for
/// byte, as JavaScript, with a strong ETag and the caching the URL allows.
/// </summary>
public sealed class ClientScriptTests : IAsyncLifetime, IDisposable
{
    private WebApplication? _app;
    private HttpClient? _client;

    private HttpClient Client => _client ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = "Production",
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.MapRocketClientScript();
        _app.MapRocketClientScript("/static/rocket.mjs");
        await _app.StartAsync();
        _client = new HttpClient { BaseAddress = new Uri(_app.Urls.Single()) };
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    public void Dispose() => _client?.Dispose();

    [Fact]
    public async Task Get_DefaultPath_ServesTheClientsModuleAsJavaScriptWithStrongETagAndRevalidation()
    {
        using var response = await Client.GetAsync("/rocket/client.js");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(await File.ReadAllBytesAsync(ModuleFile()), body);
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);
        var etag = response.Headers.ETag;
        Assert.NotNull(etag);
        Assert.False(etag.IsWeak);
        Assert.Equal($"\"{RocketClientScript.Version}\"", etag.Tag);
        Assert.True(response.Headers.CacheControl?.NoCache);
        Assert.False(response.Headers.CacheControl?.Public);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Fact]
    public void Version_IsTheStartOfTheModulesSha256_SoItChangesWithTheScript()
    {
        var expected = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(ModuleFile())))[..16];

        Assert.Equal(expected, RocketClientScript.Version);
        Assert.Equal($"/rocket/client.js?v={expected}", RocketClientScript.GetVersionedPath());
    }

    [Fact]
    public async Task Get_CurrentVersionInQuery_IsCachedForAYearAsImmutable()
    {
        using var response = await Client.GetAsync(RocketClientScript.GetVersionedPath());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("public, max-age=31536000, immutable", string.Join(", ", response.Headers.GetValues("Cache-Control")));
    }

    [Fact]
    public async Task Get_StaleVersionInQuery_ServesTodaysScriptToRevalidate()
    {
        using var response = await Client.GetAsync("/rocket/client.js?v=0123456789abcdef");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.CacheControl?.NoCache);
        Assert.Equal($"\"{RocketClientScript.Version}\"", response.Headers.ETag?.Tag);
    }

    [Theory]
    [InlineData("\"{0}\"")]
    [InlineData("W/\"{0}\"")]
    [InlineData("\"other\", \"{0}\"")]
    [InlineData("*")]
    public async Task Get_IfNoneMatchMatches_Answers304WithoutBody(string ifNoneMatch)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/rocket/client.js");
        request.Headers.TryAddWithoutValidation("If-None-Match", string.Format(System.Globalization.CultureInfo.InvariantCulture, ifNoneMatch, RocketClientScript.Version));

        using var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal($"\"{RocketClientScript.Version}\"", response.Headers.ETag?.Tag);
        Assert.True(response.Headers.CacheControl?.NoCache);
    }

    [Theory]
    [InlineData("\"0123456789abcdef\"")]
    [InlineData("not an entity tag")]
    public async Task Get_IfNoneMatchDoesNotMatch_SendsTheScript(string ifNoneMatch)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/rocket/client.js");
        request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);

        using var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(RocketClientScript.Content.Length, (await response.Content.ReadAsByteArrayAsync()).Length);
    }

    [Theory]
    [InlineData("gzip, deflate, br", "br")]
    [InlineData("gzip", "gzip")]
    [InlineData("br;q=0, gzip;q=0.5", "gzip")]
    public async Task Get_AcceptEncoding_SendsTheScriptCompressedWithItsOwnETag(string acceptEncoding, string expected)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/rocket/client.js");
        request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);

        using var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([expected], response.Content.Headers.ContentEncoding);
        Assert.Contains("Accept-Encoding", response.Headers.Vary);
        Assert.Equal($"\"{RocketClientScript.Version}-{expected}\"", response.Headers.ETag?.Tag);
        var compressed = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(compressed.Length, response.Content.Headers.ContentLength);
        Assert.True(compressed.Length < RocketClientScript.Content.Length / 2, $"{compressed.Length} bytes compressed");
        using var decompressing = expected == "br"
            ? (Stream)new BrotliStream(new MemoryStream(compressed), CompressionMode.Decompress)
            : new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
        using var decompressed = new MemoryStream();
        await decompressing.CopyToAsync(decompressed);
        Assert.Equal(RocketClientScript.Content.ToArray(), decompressed.ToArray());
    }

    [Fact]
    public async Task Get_NoAcceptableEncoding_SendsTheScriptAsItIs()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/rocket/client.js");
        request.Headers.TryAddWithoutValidation("Accept-Encoding", "br;q=0, gzip;q=0, identity");

        using var response = await Client.SendAsync(request);

        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Equal(RocketClientScript.Content.ToArray(), await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Get_IfNoneMatchOfACompressedAnswer_Answers304()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/rocket/client.js");
        request.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip");
        request.Headers.TryAddWithoutValidation("If-None-Match", $"\"{RocketClientScript.Version}-gzip\"");

        using var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
        Assert.Equal($"\"{RocketClientScript.Version}-gzip\"", response.Headers.ETag?.Tag);
    }

    [Fact]
    public async Task Head_AnswersTheHeadersWithoutBody()
    {
        using var response = await Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/rocket/client.js"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(RocketClientScript.Content.Length, response.Content.Headers.ContentLength);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Get_CustomPattern_ServesTheSameModule()
    {
        using var response = await Client.GetAsync("/static/rocket.mjs");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(RocketClientScript.Content.ToArray(), await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Post_IsNotServed()
    {
        using var response = await Client.PostAsync("/rocket/client.js", new ByteArrayContent([]));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    [Fact]
    public void Endpoint_IsLeftOutOfApiDescriptions()
    {
        var endpoint = _app!.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Single(static e => e.RoutePattern.RawText == "/rocket/client.js");

        Assert.True(endpoint.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>()?.ExcludeFromDescription);
    }

    private static string ModuleFile()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Rocket.sln")))
            {
                return Path.Combine(directory.FullName, "clients", "js", "rocket-client.js");
            }
        }

        throw new InvalidOperationException($"No Rocket.sln above {AppContext.BaseDirectory}.");
    }
}
