using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Rocket.Live;

namespace Rocket.Core.Tests.Live;

/// <summary>Typed record changes serialize with the app's own options; a configured epoch is warned about.</summary>
public sealed partial class TypedChangeTests
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    [Fact]
    public void CreateAndUpdate_WithAppOptions_SerializeAsTheAppDoes()
    {
        var create = RecordChange.Create("1", new Todo("1", "Write tests", Done: false), Web);
        var update = RecordChange.Update("1", new Todo("1", "Write tests", Done: true), Web);

        Assert.Equal("""{"id":"1","title":"Write tests","done":false}""", Encoding.UTF8.GetString(create.Value.Span));
        Assert.Equal(RecordChangeKind.Update, update.Kind);
        Assert.Equal("""{"id":"1","title":"Write tests","done":true}""", Encoding.UTF8.GetString(update.Value.Span));
    }

    [Fact]
    public void Create_WithSourceGeneratedTypeInfo_Serializes()
    {
        var create = RecordChange.Create("1", new Todo("1", "t", Done: true), TodoContext.Default.Todo);

        Assert.Equal("""{"id":"1","title":"t","done":true}""", Encoding.UTF8.GetString(create.Value.Span));
    }

    [Fact]
    public void Collection_WithConfiguredEpoch_LogsAWarning()
    {
        var logger = new ListLogger();

        using (new LiveCollection("messages", new LiveCollectionOptions { Epoch = 0x1234abcd }, logger))
        {
        }

        using (new LiveCollection("other", new LiveCollectionOptions(), logger))
        {
        }

        var warning = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Equal("UntrustedEpoch", warning.EventName);
        Assert.Contains("1234abcd", warning.Message, System.StringComparison.Ordinal);
    }

    internal sealed record Todo(string Id, string Title, bool Done);

    [JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
    [JsonSerializable(typeof(Todo))]
    internal sealed partial class TodoContext : JsonSerializerContext;

    private sealed class ListLogger : ILogger
    {
        public List<(LogLevel Level, string? EventName, string Message)> Entries { get; } = [];

        public System.IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, System.Exception? exception, System.Func<TState, System.Exception?, string> formatter) =>
            Entries.Add((logLevel, eventId.Name, formatter(state, exception)));
    }
}
