using System.Net.WebSockets;

namespace Rocket.Transports.WebSockets;

/// <summary>
/// The names and codes of Rocket's WebSocket subprotocol, <c>rocket.jsonpatch.v1</c> (docs/websocket-protocol.md):
/// one text message per event, <c>{"type":"patch","id":"&lt;cursor&gt;","patch":[...]}</c>.
/// </summary>
public static class RocketWebSocketProtocol
{
    /// <summary>The subprotocol name a client offers in <c>Sec-WebSocket-Protocol</c>: <c>rocket.jsonpatch.v1</c>.</summary>
    public const string Subprotocol = "rocket.jsonpatch.v1";

    /// <summary>The query parameter that carries the cursor to resume from: <c>lastEventId</c>, as for SSE.</summary>
    public const string CursorQueryParameter = "lastEventId";

    /// <summary>
    /// The query parameter with which a client asks to give its cursor in a first message instead of the URL:
    /// <c>?resume=message</c>. Only then does the server wait for that message before it starts the stream.
    /// </summary>
    public const string ResumeQueryParameter = "resume";

    /// <summary>The value of <see cref="ResumeQueryParameter"/> that asks for resume by message: <c>message</c>.</summary>
    public const string ResumeByMessage = "message";

    /// <summary>
    /// 4000, a private close code (RFC 6455 section 7.4.2): the client read too slowly and its queue overflowed; it
    /// should reconnect at once with its last cursor. Not 1013 (Try Again Later), which says the server is overloaded
    /// and invites a back-off, when the client is the one behind.
    /// </summary>
    public const WebSocketCloseStatus SlowConsumerCloseStatus = (WebSocketCloseStatus)4000;

    /// <summary>
    /// The close code when the authentication the stream was opened with expired (a private code, RFC 6455 section
    /// 7.4.2): sign in again, then reconnect and resume from the last cursor.
    /// </summary>
    public const WebSocketCloseStatus ExpiredCloseStatus = (WebSocketCloseStatus)4001;

    /// <summary>The longest close reason a close frame carries: 123 bytes of UTF-8 (RFC 6455 section 5.5: 125 minus the code).</summary>
    public const int MaxCloseReasonBytes = 123;
}
