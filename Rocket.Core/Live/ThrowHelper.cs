using System.Diagnostics.CodeAnalysis;

namespace Rocket.Live;

// Throw sites live here so the paths that call them stay small enough to inline.
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowRefused(ChangeRefusal reason, string? recordId, int changeIndex, string message) =>
        throw new ChangeRefusedException(reason, recordId, changeIndex, message);
}
