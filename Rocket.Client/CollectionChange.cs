using System;
using System.Collections.Generic;
using Rocket.JsonPatch;

namespace Rocket.Client;

/// <summary>One change of a <see cref="LiveCollectionClient"/>'s copy: an applied event, a reset or a refetch.</summary>
public sealed class CollectionChange
{
    /// <summary>Creates the event arguments.</summary>
    public CollectionChange(CollectionChangeKind kind, string? cursor, IReadOnlyList<JsonPatchOperation> operations, IReadOnlyList<string> recordIds, string? reason)
    {
        ArgumentNullException.ThrowIfNull(operations);
        ArgumentNullException.ThrowIfNull(recordIds);
        Kind = kind;
        Cursor = cursor;
        Operations = operations;
        RecordIds = recordIds;
        Reason = reason;
    }

    /// <summary>What happened.</summary>
    public CollectionChangeKind Kind { get; }

    /// <summary>Whether the copy was replaced whole: a reset, or a refetch.</summary>
    public bool IsReset => Kind != CollectionChangeKind.Patch;

    /// <summary>The cursor of the state the copy now holds (the event's <c>id</c>, or the GET's <c>Last-Event-ID</c>); null if the server sent none.</summary>
    public string? Cursor { get; }

    /// <summary>The event's JSON Patch operations (for a reset, its one <c>replace</c> of the document; for a refetch, none).</summary>
    public IReadOnlyList<JsonPatchOperation> Operations { get; }

    /// <summary>
    /// The ids of the records the change touched, in order, each once: for a patch, the second segment of each
    /// operation's path (<c>/messages/&lt;id&gt;/...</c>); for a reset or a refetch, every record of the new copy.
    /// </summary>
    public IReadOnlyList<string> RecordIds { get; }

    /// <summary>For a refetch caused by a patch that did not apply, why; otherwise null.</summary>
    public string? Reason { get; }
}
