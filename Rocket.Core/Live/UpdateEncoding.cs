namespace Rocket.Live;

/// <summary>How a collection encodes an <see cref="RecordChangeKind.Update"/> on the wire.</summary>
public enum UpdateEncoding
{
    /// <summary>One <c>replace</c> of the whole record at <c>/&lt;collection&gt;/&lt;id&gt;</c>. Cheapest to encode.</summary>
    Replace,

    /// <summary>
    /// The field-level diff of the old and new record (<c>add</c>/<c>replace</c>/<c>remove</c> under
    /// <c>/&lt;collection&gt;/&lt;id&gt;</c>): smaller events for large records with small changes, at the cost of
    /// parsing both values on the writer.
    /// </summary>
    Diff,
}
