using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rocket.Diagnostics;
using Rocket.Live;

namespace Rocket;

/// <summary>
/// The live collections registered with <see cref="RocketBuilderExtensions.AddCollection"/>, created once, when the
/// registry is first resolved, and disposed with the container (which ends their subscriptions).
/// </summary>
/// <remarks>
/// An app without a database of its own uses a collection as its store (<see cref="LiveCollection.Create"/>,
/// <see cref="LiveCollection.Update(string, System.ReadOnlySpan{byte})"/>, <see cref="LiveCollection.Patch(string, Rocket.JsonPatch.JsonPatchDocument)"/>, <see cref="LiveCollection.Delete(string)"/>); an app
/// with one publishes what it wrote through <see cref="IRocketPublisher"/>.
/// </remarks>
public sealed class CollectionRegistry : IDisposable
{
    private readonly Dictionary<string, LiveCollection> _collections = new(StringComparer.Ordinal);

    // Internal: the registrations are an implementation detail, so AddRocket registers a factory.
    internal CollectionRegistry(IEnumerable<CollectionRegistration> registrations, IOptionsMonitor<LiveCollectionOptions> options, ILoggerFactory? loggerFactory = null, RocketOptions? limits = null, IMeterFactory? meterFactory = null, IEnumerable<CollectionFamilyRegistration>? families = null, IOptionsMonitor<CollectionFamilyOptions>? familyOptions = null)
    {
        var metrics = meterFactory is null ? null : new RocketMetrics(meterFactory);
        var budget = limits is { MaxSubscribers: < int.MaxValue } ? new SubscriberBudget(limits.MaxSubscribers) : null;
        ArgumentNullException.ThrowIfNull(registrations);
        ArgumentNullException.ThrowIfNull(options);
        var logger = loggerFactory?.CreateLogger<LiveCollection>();
        foreach (var registration in registrations)
        {
            if (_collections.ContainsKey(registration.Name))
            {
                throw new InvalidOperationException($"The collection '{registration.Name}' is registered twice; call AddCollection once per name.");
            }

            _collections.Add(registration.Name, new LiveCollection(registration.Name, options.Get(registration.Name), logger) { Budget = budget, Metrics = metrics });
        }

        foreach (var family in families ?? [])
        {
            var template = family.Template.Trim('/');
            if (_families.ContainsKey(template))
            {
                throw new InvalidOperationException($"The collection family '{template}' is registered twice; call AddCollectionFamily once per template.");
            }

            _families.Add(template, new CollectionFamily(template, familyOptions?.Get(template) ?? new CollectionFamilyOptions(), options.Get(template), logger, budget, metrics));
        }
    }

    private readonly Dictionary<string, CollectionFamily> _families = new(StringComparer.Ordinal);

    /// <summary>The registered collection families.</summary>
    public IReadOnlyCollection<CollectionFamily> Families => _families.Values;

    /// <summary>Finds the family registered with <paramref name="template"/> (such as <c>rooms/{room}/messages</c>).</summary>
    public bool TryGetFamily(string template, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out CollectionFamily? family)
    {
        ArgumentNullException.ThrowIfNull(template);
        return _families.TryGetValue(template.Trim('/'), out family);
    }

    /// <summary>The registered collections.</summary>
    public IReadOnlyCollection<LiveCollection> Collections => _collections.Values;

    /// <summary>The collection named <paramref name="name"/>.</summary>
    /// <exception cref="InvalidOperationException">No collection has that name.</exception>
    public LiveCollection GetCollection(string name) =>
        TryGetCollection(name, out var collection)
            ? collection
            : throw new InvalidOperationException($"No collection named '{name}' is registered; add it with AddRocket().AddCollection(\"{name}\").");

    /// <summary>Finds the collection registered as <paramref name="name"/> with <c>AddCollection</c> (never a family instance).</summary>
    public bool TryGetRegisteredCollection(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out LiveCollection? collection)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _collections.TryGetValue(name, out collection);
    }

    /// <summary>Finds the collection named <paramref name="name"/>: a registered one, or a family instance that is alive.</summary>
    public bool TryGetCollection(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out LiveCollection? collection)
    {
        if (TryGetRegisteredCollection(name, out collection))
        {
            return true;
        }

        // A family instance that is alive now, by its full name (rooms/lobby/messages); never created here.
        foreach (var family in _families.Values)
        {
            if (family.TryGetInstance(name, out collection))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Disposes every collection, ending their subscriptions with <see cref="Transports.CloseReason.ShuttingDown"/>.</summary>
    public void Dispose()
    {
        foreach (var collection in _collections.Values)
        {
            collection.Dispose();
        }

        foreach (var family in _families.Values)
        {
            family.Dispose();
        }
    }
}
