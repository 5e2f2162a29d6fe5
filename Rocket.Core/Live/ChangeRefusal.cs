namespace Rocket.Live;

/// <summary>Why a change was refused. Hosts map these to HTTP statuses: see each member.</summary>
public enum ChangeRefusal
{
    /// <summary>The record id is empty, or not Unicode text (it has an unpaired surrogate) (HTTP 400).</summary>
    InvalidId,

    /// <summary>The record's value is not one well-formed JSON value (HTTP 400).</summary>
    InvalidJson,

    /// <summary>An update, patch or destroy names an id the collection does not hold (HTTP 404).</summary>
    RecordNotFound,

    /// <summary>A create names an id the collection already holds (HTTP 409).</summary>
    RecordAlreadyExists,

    /// <summary>
    /// A JSON Patch on a record could not apply; the inner <see cref="JsonPatch.JsonPatchException"/> says which
    /// operation and why (HTTP 409 for a failed <c>test</c>, 400 otherwise).
    /// </summary>
    PatchFailed,

    /// <summary>
    /// A conditional update, patch or destroy found the record changed since the caller read it (HTTP 412 for a failed
    /// <c>If-Match</c>).
    /// </summary>
    PreconditionFailed,

    /// <summary>
    /// The record would be larger than the collection's <see cref="LiveCollectionOptions.MaxRecordBytes"/>, or a patch's
    /// copies would duplicate more than that (HTTP 413).
    /// </summary>
    RecordTooLarge,

    /// <summary>The record would nest deeper than the collection's <see cref="LiveCollectionOptions.MaxRecordDepth"/> (HTTP 400).</summary>
    RecordTooDeep,
}
