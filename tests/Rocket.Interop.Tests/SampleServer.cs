using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Rocket.Sample;

namespace Rocket.Interop.Tests;

/// <summary>
/// The sample server, started in this process on a port the OS picks (127.0.0.1:0), one per test so that tests
/// neither see each other's records nor depend on their order.
/// </summary>
internal sealed class SampleServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private SampleServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    /// <summary>The bound address, e.g. <c>http://127.0.0.1:39201</c> (no trailing slash).</summary>
    public Uri BaseAddress { get; }

    /// <summary>The base address as text without a trailing slash, as the Node scripts take it.</summary>
    public string BaseUrl => BaseAddress.GetLeftPart(UriPartial.Authority);

    /// <summary>Starts the sample; <paramref name="extraArgs"/> are appended to its command line.</summary>
    public static async Task<SampleServer> StartAsync(params string[] extraArgs)
    {
        // The sample's content root is its assembly's folder (here the test's output, where its wwwroot is copied too).
        string[] args = ["--urls", "http://127.0.0.1:0", .. extraArgs];
        var app = SampleApp.Create(args);
        try
        {
            await app.StartAsync();
            // Kestrel replaces port 0 with the port it bound once started.
            var address = app.Urls.Single();
            return new SampleServer(app, new Uri(address));
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _app.StopAsync();
        }
        finally
        {
            await _app.DisposeAsync();
        }
    }
}
