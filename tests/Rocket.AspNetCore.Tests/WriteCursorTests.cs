using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;

namespace Rocket.AspNetCore.Tests;

/// <summary>Every successful write answers with the cursor of the event it caused, so a client can wait for its own write.</summary>
public sealed class WriteCursorTests
{
    [Fact]
    public async Task PostPutPatchDelete_EachAnswersWithTheCursorOfItsEvent()
    {
        await using var server = await RocketServer.StartAsync();

        using var post = await server.Client.PostAsync("messages", RocketServer.Json("""{"text":"a"}"""));
        var id = JsonElement.Parse(await post.Content.ReadAsStringAsync()).GetProperty("id").GetString()!;
        Assert.Equal((await server.GetStateAsync()).Cursor, CursorOf(post));

        using var put = await server.Client.PutAsync($"messages/{id}", RocketServer.Json("""{"text":"b"}"""));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal((await server.GetStateAsync()).Cursor, CursorOf(put));

        using var patchRequest = new HttpRequestMessage(HttpMethod.Patch, $"messages/{id}")
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes("""[{"op":"replace","path":"/text","value":"c"}]""")),
        };
        patchRequest.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json-patch+json");
        using var patch = await server.Client.SendAsync(patchRequest);
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        Assert.Equal((await server.GetStateAsync()).Cursor, CursorOf(patch));

        using var delete = await server.Client.DeleteAsync($"messages/{id}");
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        Assert.Equal((await server.GetStateAsync()).Cursor, CursorOf(delete));

        // Four writes, four consecutive cursors.
        var cursors = new[] { post, put, patch, delete }.Select(static r => long.Parse(CursorOf(r).Split('.')[1], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(Enumerable.Range((int)cursors[0], 4).Select(static c => (long)c), cursors);
    }

    [Fact]
    public async Task RefusedWrite_CarriesNoCursor()
    {
        await using var server = await RocketServer.StartAsync();

        using var response = await server.Client.DeleteAsync("messages/missing");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.False(response.Headers.Contains("Last-Event-ID"));
    }

    private static string CursorOf(HttpResponseMessage response) => response.Headers.GetValues("Last-Event-ID").Single();
}
