using System;

namespace Rocket.Live;

/// <summary>
/// The store a collection's writes commit to (Redis, a database) cannot be reached: nothing was written. Hosts answer
/// 503 with <c>Retry-After</c>; the collection's subscribers stay connected and carry on when the store is back.
/// </summary>
public sealed class SourceUnavailableException : Exception
{
    /// <summary>Creates the exception with a default message.</summary>
    public SourceUnavailableException()
        : this("The collection's store cannot be reached; nothing was written.")
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/>.</summary>
    public SourceUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/> and its cause.</summary>
    public SourceUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/>, its cause, and when to try again.</summary>
    public SourceUnavailableException(string message, Exception? innerException, TimeSpan retryAfter)
        : base(message, innerException)
    {
        RetryAfter = retryAfter;
    }

    /// <summary>When a client should try again; <see langword="null"/> when the store gives no hint.</summary>
    public TimeSpan? RetryAfter { get; }
}
