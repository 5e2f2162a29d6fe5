using System;

namespace Rocket.Live;

/// <summary>
/// A subscribe was refused because the collection (<see cref="LiveCollectionOptions.MaxSubscribers"/>) or the process
/// (<see cref="RocketOptions.MaxSubscribers"/>) has as many subscribers as it admits. Hosts answer 503 with
/// <c>Retry-After</c>; nothing was subscribed.
/// </summary>
public sealed class SubscriberLimitException : Exception
{
    /// <summary>Creates the exception with a default message.</summary>
    public SubscriberLimitException()
        : this("The server has as many subscribers as it admits; try again later.")
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/>.</summary>
    public SubscriberLimitException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/> and its cause.</summary>
    public SubscriberLimitException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
