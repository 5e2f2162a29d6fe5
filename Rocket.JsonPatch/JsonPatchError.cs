namespace Rocket.JsonPatch;

/// <summary>Why a JSON Patch was refused. Hosts map these to HTTP statuses (see the README).</summary>
public enum JsonPatchError
{
    /// <summary>The patch document is not valid JSON, not an array, or over a configured limit.</summary>
    MalformedPatch,

    /// <summary>An operation is not an object, names an unknown <c>op</c>, or has a missing, mistyped or duplicate member.</summary>
    InvalidOperation,

    /// <summary>A <c>path</c> or <c>from</c> is not a valid RFC 6901 JSON Pointer.</summary>
    InvalidPointer,

    /// <summary>A location the operation needs does not exist in the target document.</summary>
    PathNotFound,

    /// <summary>The location exists but the operation cannot be done there (an array index past the end, a <c>move</c> into its own child, removing the whole document).</summary>
    InvalidTarget,

    /// <summary>A <c>test</c> operation found a different value.</summary>
    TestFailed,

    /// <summary>The document to patch is not valid JSON.</summary>
    MalformedDocument,

    /// <summary>
    /// The result would be larger than <see cref="JsonPatchApplyOptions.MaxBytes"/>, or the patch's <c>copy</c>
    /// operations would duplicate more than that in total.
    /// </summary>
    DocumentTooLarge,

    /// <summary>
    /// The result would nest deeper than <see cref="JsonPatchApplyOptions.MaxDepth"/>, or a <c>path</c> or <c>from</c>
    /// has more tokens than that.
    /// </summary>
    DocumentTooDeep,
}
