using System;
using System.Collections.Generic;
using System.Threading;
using Microsoft.Extensions.Options;

namespace Rocket.Transports.WebSockets;

/// <summary>
/// Checks <see cref="WebSocketTransportOptions"/>: when the host starts for the app's (<c>AddWebSocketTransport</c>
/// asks for it), and when a session is started with options of its own.
/// </summary>
internal sealed class WebSocketTransportOptionsValidator : IValidateOptions<WebSocketTransportOptions>
{
    public ValidateOptionsResult Validate(string? name, WebSocketTransportOptions options)
    {
        var failures = new List<string>();
        void Require(bool holds, string option, object value, string rule)
        {
            if (!holds)
            {
                failures.Add($"WebSocketTransportOptions.{option} is {value}; it must be {rule}.");
            }
        }

        Require(options.KeepAliveInterval >= TimeSpan.Zero, nameof(options.KeepAliveInterval), options.KeepAliveInterval, "zero (no pings) or more");
        Require(options.KeepAliveTimeout > TimeSpan.Zero || options.KeepAliveTimeout == Timeout.InfiniteTimeSpan, nameof(options.KeepAliveTimeout), options.KeepAliveTimeout,
            "positive, or Timeout.InfiniteTimeSpan to never check");
        Require(options.WriteTimeout > TimeSpan.Zero, nameof(options.WriteTimeout), options.WriteTimeout, "positive");
        Require(options.CloseTimeout > TimeSpan.Zero, nameof(options.CloseTimeout), options.CloseTimeout, "positive");
        Require(options.ResumeMessageTimeout >= TimeSpan.Zero, nameof(options.ResumeMessageTimeout), options.ResumeMessageTimeout, "zero (no resume message) or more");
        Require(options.MaxIncomingMessageBytes >= 64, nameof(options.MaxIncomingMessageBytes), options.MaxIncomingMessageBytes, "at least 64");
        Require(options.MaxCollectionsPerConnection >= 1, nameof(options.MaxCollectionsPerConnection), options.MaxCollectionsPerConnection, "at least 1");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Throws an <see cref="ArgumentException"/> naming every wrong option of <paramref name="options"/>.</summary>
    public static void ThrowIfInvalid(WebSocketTransportOptions options, string paramName)
    {
        var result = new WebSocketTransportOptionsValidator().Validate(null, options);
        if (result.Failed)
        {
            throw new ArgumentException(result.FailureMessage, paramName);
        }
    }
}
