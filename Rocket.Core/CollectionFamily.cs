using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Rocket.Diagnostics;
using Rocket.Live;

namespace Rocket;

/// <summary>What <see cref="CollectionFamily.GetOrCreate"/> found.</summary>
public enum CollectionFamilyLookup
{
    /// <summary>The instance existed.</summary>
    Found,

    /// <summary>The instance was created now, with a new epoch and an empty history.</summary>
    Created,

    /// <summary>A route value is missing, too long or has characters a value may not have; nothing was created.</summary>
    InvalidValue,

    /// <summary>The family has <see cref="CollectionFamilyOptions.MaxInstances"/> instances, all with subscribers; nothing was created.</summary>
    Full,
}

/// <summary>
/// A family of collections named by a route template, such as <c>rooms/{room}/messages</c>: one
/// <see cref="LiveCollection"/> per set of route values (<c>rooms/lobby/messages</c>), created on first use, each with its
/// own epoch, cursors and history, and evicted with its history when idle. Registered with
/// <see cref="RocketBuilderExtensions.AddCollectionFamily"/>; the registry owns it.
/// </summary>
/// <remarks>
/// An instance's <see cref="LiveCollection.Name"/> is the template with the values put in (its URL path); its document
/// member (<see cref="LiveCollection.DocumentName"/>) is the last segment. Metrics of every instance are recorded under
/// the template, so their attributes stay bounded however many instances come and go.
/// </remarks>
public sealed class CollectionFamily : IDisposable
{
    private readonly string?[] _literals;
    private readonly string[] _parameters;
    private readonly Dictionary<string, Instance> _instances = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly CollectionFamilyOptions _options;
    private readonly LiveCollectionOptions _collectionOptions;
    private readonly ILogger? _logger;
    private readonly SubscriberBudget? _budget;
    private readonly RocketMetrics? _metrics;
    private readonly ITimer? _sweep;
    private bool _disposed;

    internal CollectionFamily(string template, CollectionFamilyOptions options, LiveCollectionOptions collectionOptions, ILogger? logger, SubscriberBudget? budget, RocketMetrics? metrics)
    {
        (_literals, _parameters) = Parse(template);
        Template = template.Trim('/');
        _options = options;
        _collectionOptions = collectionOptions;
        _logger = logger;
        _budget = budget;
        _metrics = metrics;
        var idle = options.IdleTimeout;
        if (idle > TimeSpan.Zero && idle != Timeout.InfiniteTimeSpan)
        {
            // Swept four times per idle timeout, so an instance goes between 1 and 1.25 timeouts after its last use.
            var period = TimeSpan.FromTicks(Math.Max(idle.Ticks / 4, TimeSpan.TicksPerMillisecond * 10));
            _sweep = TimeProvider.System.CreateTimer(static state => ((CollectionFamily)state!).EvictIdle(), this, period, period);
        }
    }

    /// <summary>The route template, such as <c>rooms/{room}/messages</c>.</summary>
    public string Template { get; }

    /// <summary>The names of the template's parameters, in order (<c>room</c>).</summary>
    public IReadOnlyList<string> Parameters => _parameters;

    /// <summary>
    /// The store that holds the instances, or <see langword="null"/> when they live in this process's memory only. Set
    /// before the first instance is created (Rocket.Redis sets it when the host starts); with a source, get instances with
    /// <see cref="GetOrCreateAsync"/>, which waits until a new instance is loaded.
    /// </summary>
    public IFamilyInstanceSource? Source { get; set; }

    /// <summary>How many instances are alive.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _instances.Count;
            }
        }
    }

    /// <summary>
    /// The instance for <paramref name="values"/> (one per parameter, by name), created if it does not exist; an
    /// existing one counts as used now. Values are checked first: nothing is created for an invalid one.
    /// </summary>
    /// <param name="values">The route values.</param>
    /// <param name="collection">The instance, when found or created.</param>
    /// <param name="problem">Why not, when <see cref="CollectionFamilyLookup.InvalidValue"/> or <see cref="CollectionFamilyLookup.Full"/>.</param>
    public CollectionFamilyLookup GetOrCreate(Func<string, string?> values, out LiveCollection? collection, out string? problem) =>
        GetOrCreateCore(values, out collection, out problem, out _);

    /// <summary>
    /// As <see cref="GetOrCreate(Func{string, string?}, out LiveCollection?, out string?)"/>, and with a
    /// <see cref="Source"/>, waits until the instance is loaded from it.
    /// </summary>
    /// <exception cref="Exception">The source failed to load a new instance (it is dropped; the next call tries again).</exception>
    public async ValueTask<(CollectionFamilyLookup Lookup, LiveCollection? Collection, string? Problem)> GetOrCreateAsync(Func<string, string?> values, CancellationToken cancellationToken = default)
    {
        var lookup = GetOrCreateCore(values, out var collection, out var problem, out var ready);
        if (ready.IsCompletedSuccessfully)
        {
            return (lookup, collection, problem);
        }

        try
        {
            await ready.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (!ready.IsCompletedSuccessfully && ready.IsCompleted)
        {
            Drop(collection!);
            throw;
        }

        return (lookup, collection, problem);
    }

    // A new instance whose load failed: removed (if it is still the one listed) so the next use loads it anew.
    private void Drop(LiveCollection collection)
    {
        lock (_lock)
        {
            if (_instances.TryGetValue(collection.Name, out var listed) && ReferenceEquals(listed.Collection, collection))
            {
                _instances.Remove(collection.Name);
                _metrics?.FamilyInstanceEvicted(Template, "failed");
            }
            else
            {
                return;
            }
        }

        collection.Dispose();
        Source?.Detach(collection);
    }

    private CollectionFamilyLookup GetOrCreateCore(Func<string, string?> values, out LiveCollection? collection, out string? problem, out Task ready)
    {
        ArgumentNullException.ThrowIfNull(values);
        collection = null;
        ready = Task.CompletedTask;
        if (!TryFormatName(values, out var name, out problem))
        {
            return CollectionFamilyLookup.InvalidValue;
        }

        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_instances.TryGetValue(name, out var found))
            {
                found.LastUsed = Environment.TickCount64;
                collection = found.Collection;
                ready = found.Ready;
                return CollectionFamilyLookup.Found;
            }

            if (_instances.Count >= _options.MaxInstances && !EvictLeastRecentlyUsed())
            {
                problem = $"Family '{Template}' has {_options.MaxInstances} instances, all with subscribers, as many as it admits; try again later.";
                _metrics?.FamilyFull(Template);
                return CollectionFamilyLookup.Full;
            }

            collection = new LiveCollection(name, _collectionOptions, _logger) { Budget = _budget, Metrics = _metrics, MetricsName = Template };
            var instance = new Instance(collection) { LastUsed = Environment.TickCount64 };
            if (Source is { } source)
            {
                // Started under the lock so that nobody gets the instance before its load began; the load itself is
                // asynchronous and awaited by GetOrCreateAsync.
                instance.Ready = source.AttachAsync(collection, Template, CancellationToken.None);
            }

            ready = instance.Ready;
            _instances.Add(name, instance);
            _metrics?.FamilyInstanceAdded(Template);
            return CollectionFamilyLookup.Created;
        }
    }

    /// <summary>The live instance named <paramref name="name"/> (such as <c>rooms/lobby/messages</c>), without creating it.</summary>
    public bool TryGetInstance(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out LiveCollection? collection)
    {
        ArgumentNullException.ThrowIfNull(name);
        lock (_lock)
        {
            if (_instances.TryGetValue(name, out var found))
            {
                collection = found.Collection;
                return true;
            }
        }

        collection = null;
        return false;
    }

    /// <summary>
    /// Parses an instance name (<c>rooms/lobby/messages</c>) into this family's route values; false when the name does
    /// not fit the template or a value is not valid.
    /// </summary>
    public bool TryMatch(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IReadOnlyDictionary<string, string>? values)
    {
        ArgumentNullException.ThrowIfNull(name);
        values = null;
        var segments = name.Split('/');
        if (segments.Length != _literals.Length)
        {
            return false;
        }

        var found = new Dictionary<string, string>(StringComparer.Ordinal);
        var parameter = 0;
        for (var i = 0; i < segments.Length; i++)
        {
            if (_literals[i] is { } literal)
            {
                if (!string.Equals(literal, segments[i], StringComparison.Ordinal))
                {
                    return false;
                }
            }
            else
            {
                if (ValueProblem(segments[i]) is not null)
                {
                    return false;
                }

                found[_parameters[parameter++]] = segments[i];
            }
        }

        values = found;
        return true;
    }

    /// <summary>Evicts every instance idle for <see cref="CollectionFamilyOptions.IdleTimeout"/> or longer; returns how many. The family's timer calls it.</summary>
    public int EvictIdle()
    {
        if (_options.IdleTimeout <= TimeSpan.Zero)
        {
            return 0;
        }

        var now = Environment.TickCount64;
        var idleMs = (long)_options.IdleTimeout.TotalMilliseconds;
        List<LiveCollection>? evicted = null;
        lock (_lock)
        {
            if (_disposed)
            {
                return 0;
            }

            foreach (var (name, instance) in _instances)
            {
                if (instance.Collection.SubscriberCount > 0 || !instance.Ready.IsCompleted)
                {
                    // In use: idle time counts from when its last subscriber is seen gone.
                    instance.LastUsed = now;
                }
                else if (now - instance.LastUsed >= idleMs)
                {
                    (evicted ??= []).Add(instance.Collection);
                }
            }

            foreach (var collection in evicted ?? [])
            {
                _instances.Remove(collection.Name);
                _metrics?.FamilyInstanceEvicted(Template, "idle");
            }
        }

        foreach (var collection in evicted ?? [])
        {
            collection.Dispose();
            Source?.Detach(collection);
        }

        return evicted?.Count ?? 0;
    }

    /// <summary>Disposes every instance (their subscribers are told the server is shutting down) and stops evicting.</summary>
    public void Dispose()
    {
        Instance[] instances;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            instances = [.. _instances.Values];
            _instances.Clear();
        }

        _sweep?.Dispose();
        foreach (var instance in instances)
        {
            instance.Collection.Dispose();
            Source?.Detach(instance.Collection);
        }
    }

    // Under the lock: makes room by evicting the least recently used instance without subscribers.
    private bool EvictLeastRecentlyUsed()
    {
        Instance? oldest = null;
        foreach (var instance in _instances.Values)
        {
            if (instance.Collection.SubscriberCount == 0 && instance.Ready.IsCompleted && (oldest is null || instance.LastUsed < oldest.LastUsed))
            {
                oldest = instance;
            }
        }

        if (oldest is null)
        {
            return false;
        }

        _instances.Remove(oldest.Collection.Name);
        oldest.Collection.Dispose();
        Source?.Detach(oldest.Collection);
        _metrics?.FamilyInstanceEvicted(Template, "capacity");
        return true;
    }

    private bool TryFormatName(Func<string, string?> values, out string name, out string? problem)
    {
        var parts = new string[_literals.Length];
        var parameter = 0;
        for (var i = 0; i < _literals.Length; i++)
        {
            if (_literals[i] is { } literal)
            {
                parts[i] = literal;
                continue;
            }

            var key = _parameters[parameter++];
            var value = values(key);
            if (ValueProblem(value) is { } why)
            {
                name = string.Empty;
                problem = $"The route value '{key}' {why}.";
                return false;
            }

            parts[i] = value!;
        }

        name = string.Join('/', parts);
        problem = null;
        return true;
    }

    /// <summary>Why <paramref name="value"/> cannot be a route value of this family, or <see langword="null"/> when it can.</summary>
    public string? GetValueProblem(string? value) => ValueProblem(value);

    private string? ValueProblem(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "is missing";
        }

        if (value.Length > _options.MaxValueLength)
        {
            return $"is {value.Length} characters long, over the limit of {_options.MaxValueLength}";
        }

        if (value is "." or "..")
        {
            return "may not be '.' or '..'";
        }

        foreach (var c in value)
        {
            if (!IsValueChar(c))
            {
                return "may only hold ASCII letters, digits and - _ . ~ @";
            }
        }

        return null;
    }

    private static bool IsValueChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~' or '@';

    // "rooms/{room}/messages" -> literals [rooms, null, messages], parameters [room].
    internal static (string?[] Literals, string[] Parameters) Parse(string template)
    {
        ArgumentException.ThrowIfNullOrEmpty(template);
        var segments = template.Trim('/').Split('/');
        var literals = new string?[segments.Length];
        var parameters = new List<string>();
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i];
            if (segment.Length > 2 && segment[0] == '{' && segment[^1] == '}')
            {
                var parameter = segment[1..^1];
                if (!IsParameterName(parameter))
                {
                    throw new ArgumentException($"The family template '{template}' has a parameter '{parameter}' that is not a plain name (letters, digits, _).", nameof(template));
                }

                if (parameter is "id" || parameters.Contains(parameter))
                {
                    throw new ArgumentException($"The family template '{template}' uses the parameter name '{parameter}' twice or uses 'id', which the record routes take.", nameof(template));
                }

                parameters.Add(parameter);
            }
            else if (segment.Length == 0 || segment.Contains('{', StringComparison.Ordinal) || segment.Contains('}', StringComparison.Ordinal) || !IsLiteral(segment))
            {
                throw new ArgumentException($"The family template '{template}' has a segment '{segment}' that is neither a literal (letters, digits, - _ . ~ @) nor a whole '{{parameter}}'.", nameof(template));
            }
            else
            {
                literals[i] = segment;
            }
        }

        if (parameters.Count == 0)
        {
            throw new ArgumentException($"The family template '{template}' has no '{{parameter}}'; register a fixed collection with AddCollection.", nameof(template));
        }

        return (literals, [.. parameters]);
    }

    private static bool IsParameterName(string name)
    {
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                return false;
            }
        }

        return name.Length > 0;
    }

    private static bool IsLiteral(string segment)
    {
        foreach (var c in segment)
        {
            if (!IsValueChar(c))
            {
                return false;
            }
        }

        return true;
    }

    private sealed class Instance(LiveCollection collection)
    {
        public LiveCollection Collection { get; } = collection;

        public long LastUsed { get; set; }

        // Completes when the family's source has loaded the instance (at once without a source).
        public Task Ready { get; set; } = Task.CompletedTask;
    }
}
