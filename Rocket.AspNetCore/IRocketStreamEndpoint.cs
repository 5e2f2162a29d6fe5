using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using Rocket.Live;

namespace Rocket.AspNetCore;

/// <summary>
/// A stream transport's ASP.NET Core side: it recognises the requests that ask for its stream on a collection's URL
/// and serves them. Each transport registers one (<c>AddSseTransport()</c> and so on); only registered transports answer.
/// </summary>
public interface IRocketStreamEndpoint
{
    /// <summary>The transport's name, for logs and errors (<c>sse</c>, <c>websocket</c>).</summary>
    string Name { get; }

    /// <summary>
    /// Whether <paramref name="context"/> asks for this transport's stream (an <c>Accept: text/event-stream</c>, a
    /// WebSocket upgrade). Must not read the body or write anything.
    /// </summary>
    bool CanAccept(HttpContext context);

    /// <summary>Serves the stream of <paramref name="collection"/> until the client goes, the server stops, or Rocket closes it.</summary>
    Task ExecuteAsync(HttpContext context, LiveCollection collection);
}
