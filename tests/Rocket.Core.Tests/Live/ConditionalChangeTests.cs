using System.Text;
using Rocket.JsonPatch;
using Rocket.Live;

namespace Rocket.Core.Tests.Live;

public class ConditionalChangeTests
{
    [Fact]
    public void Update_WithCurrentBytes_Applies()
    {
        using var collection = new LiveCollection("messages");
        collection.Create("1", """{"id":"1","n":1}"""u8);

        var cursor = collection.Update("1", """{"id":"1","n":2}"""u8, """{"id":"1","n":1}"""u8);

        Assert.Equal(2, cursor.Sequence);
        Assert.True(collection.TryGet("1", out var record));
        Assert.Equal("""{"id":"1","n":2}""", Encoding.UTF8.GetString(record.Span));
    }

    [Fact]
    public void Update_WithStaleBytes_IsRefusedAsPreconditionFailedAndChangesNothing()
    {
        using var collection = new LiveCollection("messages");
        collection.Create("1", """{"id":"1","n":1}"""u8);
        collection.Update("1", """{"id":"1","n":2}"""u8);

        var error = Assert.Throws<ChangeRefusedException>(() => collection.Update("1", """{"id":"1","n":3}"""u8, """{"id":"1","n":1}"""u8));

        Assert.Equal(ChangeRefusal.PreconditionFailed, error.Reason);
        Assert.Equal(2, collection.Cursor.Sequence);
        Assert.True(collection.TryGet("1", out var record));
        Assert.Equal("""{"id":"1","n":2}""", Encoding.UTF8.GetString(record.Span));
    }

    [Fact]
    public void Delete_WithStaleBytes_IsRefusedAndMissingIdIsNotFound()
    {
        using var collection = new LiveCollection("messages");
        collection.Create("1", """{"n":1}"""u8);

        Assert.Equal(ChangeRefusal.PreconditionFailed, Assert.Throws<ChangeRefusedException>(() => collection.Delete("1", """{"n":0}"""u8)).Reason);
        Assert.Equal(ChangeRefusal.RecordNotFound, Assert.Throws<ChangeRefusedException>(() => collection.Delete("2", """{"n":1}"""u8)).Reason);
        Assert.Equal(1, collection.Count);

        collection.Delete("1", """{"n":1}"""u8);
        Assert.Equal(0, collection.Count);
    }

    [Fact]
    public void Patch_ReturnsTheRecordThisPatchProduced()
    {
        using var collection = new LiveCollection("messages");
        collection.Create("1", """{"n":1}"""u8);

        collection.Patch("1", JsonPatchDocument.Parse("""[{"op":"replace","path":"/n","value":5}]"""u8), out var record);

        Assert.Equal("""{"n":5}""", Encoding.UTF8.GetString(record.Span));
    }
}
