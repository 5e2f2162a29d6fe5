namespace Rocket.Client;

/// <summary>What a <see cref="CollectionChange"/> reports.</summary>
public enum CollectionChangeKind
{
    /// <summary>A stream event was applied to the copy.</summary>
    Patch,

    /// <summary>The stream started with a reset (no usable cursor, a restarted server): the copy was replaced whole.</summary>
    Reset,

    /// <summary>The document was fetched with a GET: at start, or because a patch failed to apply (see <see cref="CollectionChange.Reason"/>).</summary>
    Refetch,
}
