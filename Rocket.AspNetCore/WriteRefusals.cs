using System;
using System.Globalization;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using Rocket.JsonPatch;
using Rocket.Live;

namespace Rocket.AspNetCore;

/// <summary>
/// Runs a write of the REST scaffold and answers what the store refused: each <see cref="ChangeRefusal"/> (and an
/// unavailable source) as its problem response, a failed patch operation with its index.
/// </summary>
internal static class WriteRefusals
{
    /// <summary>
    /// Runs <paramref name="write"/>. On success the response carries the cursor of the event it caused, so a client
    /// can wait for its own write on a stream; a refusal is answered here, through <paramref name="onFailedOperation"/>
    /// when an operation of a patch failed and the caller has more to say about it.
    /// </summary>
    /// <returns>Whether the write was stored.</returns>
    public static async Task<bool> TryWriteAsync(HttpContext context, string collection, Func<ValueTask<Cursor>> write, Func<JsonPatchException, Task>? onFailedOperation = null)
    {
        try
        {
            var cursor = await write().ConfigureAwait(false);
            context.Response.Headers[RocketHeaders.LastEventId] = cursor.ToString();
            return true;
        }
        catch (SourceUnavailableException e)
        {
            // Nothing was written; the client may simply try again (RFC 9110 section 15.6.4).
            var retryAfter = e.RetryAfter ?? TimeSpan.FromSeconds(1);
            context.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            await Problem.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "store-unavailable", "Service Unavailable", e.Message).ConfigureAwait(false);
            return false;
        }
        catch (ChangeRefusedException e)
        {
            var answer = FailedOperation(e) is { } error
                ? onFailedOperation?.Invoke(error) ?? PatchRefusedAsync(context, error)
                : e.Reason switch
                {
                    ChangeRefusal.RecordNotFound => NotFoundAsync(context, collection, e.RecordId ?? string.Empty),
                    ChangeRefusal.RecordAlreadyExists => Problem.WriteAsync(context, StatusCodes.Status409Conflict, "record-exists", "Record exists", e.Message),
                    ChangeRefusal.PreconditionFailed => Problem.WriteAsync(context, StatusCodes.Status412PreconditionFailed, "precondition-failed", "Precondition Failed", e.Message),
                    ChangeRefusal.RecordTooLarge => Problem.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "record-too-large", "Record too large", e.Message),
                    ChangeRefusal.RecordTooDeep => Problem.WriteAsync(context, StatusCodes.Status400BadRequest, "record-too-deep", "Record nested too deeply", e.Message),
                    _ => Problem.WriteAsync(context, StatusCodes.Status400BadRequest, "invalid-record", "Invalid record", e.Message),
                };
            await answer.ConfigureAwait(false);
            return false;
        }
    }

    /// <summary>
    /// A patch the engine refused, with the failing operation's index (-1: the patch document as a whole). RFC 5789
    /// section 2.2: a malformed patch is 400; one that cannot apply to the resource's state is 409.
    /// </summary>
    public static Task PatchRefusedAsync(HttpContext context, JsonPatchException error)
    {
        var status = error.Error switch
        {
            JsonPatchError.PathNotFound or JsonPatchError.InvalidTarget or JsonPatchError.TestFailed => StatusCodes.Status409Conflict,
            JsonPatchError.DocumentTooLarge => StatusCodes.Status413PayloadTooLarge,
            JsonPatchError.MalformedDocument => StatusCodes.Status500InternalServerError,
            _ => StatusCodes.Status400BadRequest,
        };
        var type = error.Error switch
        {
            JsonPatchError.TestFailed => "test-failed",
            JsonPatchError.PathNotFound => "path-not-found",
            JsonPatchError.InvalidTarget => "invalid-target",
            JsonPatchError.InvalidPointer => "invalid-pointer",
            JsonPatchError.InvalidOperation => "invalid-operation",
            JsonPatchError.DocumentTooLarge => "record-too-large",
            JsonPatchError.DocumentTooDeep => "record-too-deep",
            _ => "invalid-patch",
        };
        return Problem.WriteAsync(context, status, type, "The patch was refused", error.Message, error.OperationIndex);
    }

    public static Task NotFoundAsync(HttpContext context, string collection, string id) =>
        Problem.WriteAsync(context, StatusCodes.Status404NotFound, "not-found", "Not Found", $"Collection '{collection}' has no record '{id}'.");

    // The operation a refusal names: a failed patch, or a record budget that one of its operations ran into.
    private static JsonPatchException? FailedOperation(ChangeRefusedException refusal) => refusal switch
    {
        { Reason: ChangeRefusal.PatchFailed, InnerException: JsonPatchException error } => error,
        { Reason: ChangeRefusal.RecordTooLarge or ChangeRefusal.RecordTooDeep, InnerException: JsonPatchException { OperationIndex: >= 0 } error } => error,
        _ => null,
    };
}
