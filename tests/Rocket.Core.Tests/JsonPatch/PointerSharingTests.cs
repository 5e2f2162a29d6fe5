using System.Collections.Generic;
using Rocket.JsonPatch;

namespace Rocket.Core.Tests.JsonPatch;

public class PointerSharingTests
{
    [Fact]
    public void Segments_OfAParsedPointer_CannotBeCastBackAndChanged()
    {
        // The parser shares pointers between patches through its cache, so a caller must not be able to change one.
        var first = JsonPatchDocument.Parse("""[{"op":"remove","path":"/shared/path"}]"""u8);

        var segments = first[0].Path.Segments;

        Assert.False(segments is string[]);
        Assert.Throws<System.NotSupportedException>(() => ((IList<string>)segments)[0] = "changed");
        var second = JsonPatchDocument.Parse("""[{"op":"remove","path":"/shared/path"}]"""u8);
        Assert.Equal(["shared", "path"], second[0].Path.Segments);
    }
}
