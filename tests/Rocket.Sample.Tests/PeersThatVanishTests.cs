using System;
using System.Linq;
using System.Net.Http;
using System.Net.Sockets;
using System.Text.Json;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;

namespace Rocket.Sample.Tests;

/// <summary>
/// The TCP settings docs/reliability.md ("Peers that vanish") recommends, set on Kestrel's listening socket as shown
/// there, are the ones every accepted connection has: read back from the server's own socket of a real request.
/// </summary>
public sealed class PeersThatVanishTests
{
    [Fact]
    public async Task RecommendedListenSocket_AcceptedConnectionsHaveUserTimeoutAndKeepAlive()
    {
        Assert.True(OperatingSystem.IsLinux(), "TCP_USER_TIMEOUT is a Linux option; this test runs on Linux");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        // As in docs/reliability.md.
        builder.WebHost.UseSockets(sockets => sockets.CreateBoundListenSocket = endpoint =>
        {
            var socket = SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);
            if (OperatingSystem.IsLinux() && socket.ProtocolType == ProtocolType.Tcp)
            {
                socket.SetRawSocketOption(6, 18, BitConverter.GetBytes(30_000));
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
                socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, 30);
                socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, 10);
                socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, 3);
            }

            return socket;
        });
        await using var app = builder.Build();
        app.MapGet("/socket", (HttpContext context) =>
        {
            var socket = context.Features.Get<IConnectionSocketFeature>()!.Socket;
            var userTimeout = new byte[4];
            socket.GetRawSocketOption(6, 18, userTimeout);
            return Results.Json(new
            {
                userTimeoutMs = BitConverter.ToInt32(userTimeout),
                keepAlive = (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive)! != 0,
                keepAliveTime = (int)socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime)!,
                keepAliveInterval = (int)socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval)!,
                keepAliveCount = (int)socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount)!,
            });
        });
        await app.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.Single()), Timeout = TimeSpan.FromSeconds(30) };

        using var answer = JsonDocument.Parse(await client.GetStringAsync(new Uri("/socket", UriKind.Relative)));

        var root = answer.RootElement;
        Assert.Equal(30_000, root.GetProperty("userTimeoutMs").GetInt32());
        Assert.True(root.GetProperty("keepAlive").GetBoolean());
        Assert.Equal(30, root.GetProperty("keepAliveTime").GetInt32());
        Assert.Equal(10, root.GetProperty("keepAliveInterval").GetInt32());
        Assert.Equal(3, root.GetProperty("keepAliveCount").GetInt32());
        await app.StopAsync();
    }
}
