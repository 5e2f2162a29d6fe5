using System;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Rocket.Live;
using Rocket.Transports;

namespace Rocket.AspNetCore;

/// <summary>Bounds a stream by the lifetime of the authentication it was opened with.</summary>
public static class StreamAuthentication
{
    /// <summary>
    /// When the authentication of <paramref name="context"/> expires, as its ticket says (<c>ExpiresUtc</c> of the
    /// result the authentication middleware stored), or <see langword="null"/> when it does not say or nobody is signed in.
    /// </summary>
    public static DateTimeOffset? GetExpiry(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var result = context.Features.Get<IAuthenticateResultFeature>()?.AuthenticateResult;
        return result is { Succeeded: true } ? result.Properties?.ExpiresUtc : null;
    }

    /// <summary>
    /// Closes <paramref name="subscription"/> with <see cref="CloseReason.Expired"/> when the request's authentication
    /// expires (nothing when it has no expiry): the client is told, signs in again and resumes from its cursor.
    /// </summary>
    public static void CloseWhenExpired(HttpContext context, Subscription subscription)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        if (GetExpiry(context) is { } expires)
        {
            subscription.CloseAfter(expires - DateTimeOffset.UtcNow, CloseReason.Expired);
        }
    }
}
