using System.Net;
using System.Net.Http;
using System.Text.Json;
using System.Threading.Tasks;

namespace Rocket.AspNetCore.Tests;

/// <summary>Checks an RFC 9457 problem response to the letter: status, media type and members.</summary>
internal static class ProblemAssert
{
    public static async Task<JsonElement> IsProblemAsync(HttpResponseMessage response, HttpStatusCode status, string type, int? operationIndex = null)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        var body = await response.Content.ReadAsStringAsync();
        var problem = JsonElement.Parse(body);
        Assert.Equal("urn:rocket:problem:" + type, problem.GetProperty("type").GetString());
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()), body);
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()), body);
        if (operationIndex is { } index)
        {
            Assert.Equal(index, problem.GetProperty("operationIndex").GetInt32());
        }
        else
        {
            Assert.False(problem.TryGetProperty("operationIndex", out _), body);
        }

        return problem;
    }
}
