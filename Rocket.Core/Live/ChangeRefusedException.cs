using System;

namespace Rocket.Live;

/// <summary>
/// A change set was refused. When a collection throws it, the collection is exactly as it was: no record changed, no
/// event was published, the cursor did not move.
/// </summary>
public sealed class ChangeRefusedException : Exception
{
    /// <summary>Creates an exception with a generic message.</summary>
    public ChangeRefusedException()
        : this(ChangeRefusal.InvalidJson, null, -1, "The change was refused.")
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public ChangeRefusedException(string message)
        : this(ChangeRefusal.InvalidJson, null, -1, message)
    {
    }

    /// <summary>Creates an exception with a message and its cause.</summary>
    public ChangeRefusedException(string message, Exception innerException)
        : this(ChangeRefusal.InvalidJson, null, -1, message, innerException)
    {
    }

    /// <summary>Creates an exception naming the refused change.</summary>
    /// <param name="reason">Why the change was refused.</param>
    /// <param name="recordId">The id of the record concerned, if known.</param>
    /// <param name="changeIndex">The zero-based index of the change in its change set, or -1 when not known.</param>
    /// <param name="message">A sentence a person can act on.</param>
    /// <param name="innerException">The underlying cause, if any.</param>
    public ChangeRefusedException(ChangeRefusal reason, string? recordId, int changeIndex, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(changeIndex, -1);
        Reason = reason;
        RecordId = recordId;
        ChangeIndex = changeIndex;
    }

    /// <summary>Why the change was refused.</summary>
    public ChangeRefusal Reason { get; }

    /// <summary>The id of the record concerned, or <see langword="null"/> when not known.</summary>
    public string? RecordId { get; }

    /// <summary>The zero-based index of the refused change in its change set, or -1 when not known.</summary>
    public int ChangeIndex { get; }
}
