using System.Text.Json;
using System.Text.Json.Nodes;
using Rocket.JsonPatch;

namespace Rocket.Core.Tests.JsonPatch;

/// <summary>
/// <c>test</c> compares numbers by value (RFC 6902 section 4.6), whatever their size: numbers beyond what .NET's numeric
/// types hold compare by their decimal value, and never surface a .NET exception's message.
/// </summary>
public sealed class NumberEqualityTests
{
    [Theory]
    [InlineData("1e400", "10e399", true)]
    [InlineData("1e400", "1e401", false)]
    [InlineData("-1e400", "1e400", false)]
    [InlineData("1.5e-400", "15e-401", true)]
    [InlineData("123456789012345678901234567890", "1.2345678901234567890123456789e29", true)]
    [InlineData("123456789012345678901234567890", "123456789012345678901234567891", false)]
    [InlineData("0", "-0.0e5", true)]
    [InlineData("1e99999999999", "1e99999999999", true)]
    [InlineData("1e99999999999", "1e99999999998", false)]
    [InlineData("1", "1.0", true)]
    [InlineData("100", "1e2", true)]
    [InlineData("0.1", "1e-1", true)]
    [InlineData("12.340e1", "123.4", true)]
    [InlineData("-5e-3", "-0.005", true)]
    [InlineData("1e19", "10000000000000000000", true)]
    [InlineData("1e1000000000000000000", "10e999999999999999999", true)]
    [InlineData("0.1e1000000000000000000", "1e999999999999999999", true)]
    [InlineData("1e1000000000000000000", "1e999999999999999999", false)]
    [InlineData("1e-1000000000000000000", "0.01e-999999999999999998", true)]
    [InlineData("1e-1000000000000000000", "1e1000000000000000000", false)]
    public void Test_LargeAndPreciseNumbers_ComparedByValue(string actual, string expected, bool equal)
    {
        var document = JsonNode.Parse($$"""{"n":{{actual}}}""");
        var patch = JsonPatchDocument.Parse($$"""[{"op":"test","path":"/n","value":{{expected}}}]""");

        if (equal)
        {
            patch.ApplyTo(document);
        }
        else
        {
            var error = Assert.Throws<JsonPatchException>(() => patch.ApplyTo(document));
            Assert.Equal(JsonPatchError.TestFailed, error.Error);
            Assert.Null(error.InnerException);
        }
    }

    [Fact]
    public void Equals_NumberAndString_NotEqual()
    {
        Assert.False(JsonValueEquality.Equals(JsonNode.Parse("1e400"), JsonElement.Parse("\"1e400\"")));
    }
}
