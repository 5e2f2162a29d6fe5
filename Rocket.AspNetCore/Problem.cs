using System.Text.Json;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Rocket.JsonPatch;

namespace Rocket.AspNetCore;

/// <summary>Writes RFC 9457 problem details: <c>type</c>, <c>title</c>, <c>status</c>, <c>detail</c>, and for patches <c>operationIndex</c>.</summary>
internal static class Problem
{
    public const string TypePrefix = "urn:rocket:problem:";

    public static async Task WriteAsync(HttpContext context, int status, string type, string title, string detail, int? operationIndex = null)
    {
        // An app that registered problem details (AddProblemDetails) gets its customizations on Rocket's errors too.
        if (context.RequestServices?.GetService<IProblemDetailsService>() is { } service)
        {
            var problem = new ProblemDetails { Type = TypePrefix + type, Title = title, Status = status, Detail = detail };
            if (operationIndex is { } at)
            {
                problem.Extensions["operationIndex"] = at;
            }

            context.Response.StatusCode = status;
            if (await service.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem }).ConfigureAwait(false))
            {
                return;
            }
        }

        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/problem+json; charset=utf-8";
        using (var json = new Utf8JsonWriter(response.BodyWriter, JsonPatchWriter.WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("type"u8, TypePrefix + type);
            json.WriteString("title"u8, title);
            json.WriteNumber("status"u8, status);
            json.WriteString("detail"u8, detail);
            if (operationIndex is { } index)
            {
                // -1 means the patch document as a whole (not JSON, not an array, over a limit).
                json.WriteNumber("operationIndex"u8, index);
            }

            json.WriteEndObject();
        }

        await response.BodyWriter.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }
}
