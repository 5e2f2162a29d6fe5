namespace Rocket.Live;

/// <summary>What a <see cref="RecordChange"/> does to its record.</summary>
public enum RecordChangeKind
{
    /// <summary>Adds a record whose id is not in the collection; encoded as <c>add</c>.</summary>
    Create,

    /// <summary>
    /// Replaces a record that is in the collection; encoded as <c>replace</c>, or as the field-level diff when the
    /// collection's <see cref="LiveCollectionOptions.UpdateEncoding"/> asks for it.
    /// </summary>
    Update,

    /// <summary>Removes a record that is in the collection; encoded as <c>remove</c>.</summary>
    Destroy,
}
