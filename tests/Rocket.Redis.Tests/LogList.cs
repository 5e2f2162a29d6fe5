using System;
using Microsoft.Extensions.Logging;

namespace Rocket.Testing;

/// <summary>Keeps what a test server logs at <see cref="MinimumLevel"/> and above, for failure messages.</summary>
public sealed class LogList : ILoggerProvider
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _entries = new();

    /// <summary>The lowest level kept; Warning unless a test wants more.</summary>
    public LogLevel MinimumLevel { get; init; } = LogLevel.Warning;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    public override string ToString() => string.Join(" | ", _entries);

    private sealed class Logger(LogList list, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= list.MinimumLevel;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                list._entries.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception?.Message}");
            }
        }
    }
}
