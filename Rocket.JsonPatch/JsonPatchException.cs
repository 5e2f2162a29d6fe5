using System;

namespace Rocket.JsonPatch;

/// <summary>
/// The one exception type that parsing or applying a JSON Patch throws. When it is thrown by an apply, the document
/// the caller passed is exactly as it was before.
/// </summary>
public sealed class JsonPatchException : Exception
{
    /// <summary>Creates an exception with a generic message.</summary>
    public JsonPatchException()
        : this(JsonPatchError.MalformedPatch, -1, "The JSON Patch was refused.")
    {
    }

    /// <summary>Creates an exception for a malformed patch document.</summary>
    public JsonPatchException(string message)
        : this(JsonPatchError.MalformedPatch, -1, message)
    {
    }

    /// <summary>Creates an exception for a malformed patch document, with its cause.</summary>
    public JsonPatchException(string message, Exception innerException)
        : this(JsonPatchError.MalformedPatch, -1, message, innerException)
    {
    }

    /// <summary>Creates an exception naming the failing operation.</summary>
    /// <param name="error">Why the patch was refused.</param>
    /// <param name="operationIndex">The zero-based index of the failing operation, or -1 for the document as a whole.</param>
    /// <param name="message">A sentence a person can act on.</param>
    /// <param name="innerException">The underlying cause, if any.</param>
    public JsonPatchException(JsonPatchError error, int operationIndex, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(operationIndex, -1);
        Error = error;
        OperationIndex = operationIndex;
    }

    /// <summary>Why the patch was refused.</summary>
    public JsonPatchError Error { get; }

    /// <summary>
    /// The zero-based index of the operation that failed, or -1 when the patch document itself is malformed (or, for
    /// <see cref="JsonPatchError.MalformedDocument"/>, when the target document is).
    /// </summary>
    public int OperationIndex { get; }
}
