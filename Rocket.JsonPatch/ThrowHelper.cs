using System;
using System.Diagnostics.CodeAnalysis;

namespace Rocket.JsonPatch;

// Throw sites live here so the hot paths that call them stay small enough to inline.
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowInvalidPointerArgument(string paramName) =>
        throw new ArgumentException("The value is not a valid RFC 6901 JSON Pointer: it must be empty or start with '/', every '~' must be followed by '0' or '1', and it must be Unicode text (no unpaired surrogate).", paramName);

    [DoesNotReturn]
    public static void ThrowPatch(JsonPatchError error, int operationIndex, string message) =>
        throw new JsonPatchException(error, operationIndex, message);
}
