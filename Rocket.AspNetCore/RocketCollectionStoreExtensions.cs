using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Rocket.AspNetCore;
using Rocket.Live;

namespace Rocket;

/// <summary>Registers collections kept in the app's own database.</summary>
public static class RocketCollectionStoreExtensions
{
    /// <summary>
    /// Registers the live collection <paramref name="name"/> (as <see cref="RocketBuilderExtensions.AddCollection"/>
    /// does) kept in the app's store <typeparamref name="TStore"/>: a scoped service, so it may hold a
    /// <c>DbContext</c>. The collection is loaded from the store when the host starts (an empty store, an empty
    /// collection), and every write of the REST scaffold is committed by the store before it is published.
    /// </summary>
    public static IRocketBuilder AddCollection<TStore>(this IRocketBuilder builder, string name, Action<LiveCollectionOptions>? configure = null)
        where TStore : class, ICollectionStore
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddCollection(name, configure);
        builder.Services.AddKeyedScoped<ICollectionStore, TStore>(name);
        builder.Services.AddSingleton(new CollectionStoreRegistration(name));
        builder.Services.TryAddSingleton<CollectionWriteGates>();
        if (!builder.Services.Any(static d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(CollectionStoreLoader)))
        {
            builder.Services.AddHostedService<CollectionStoreLoader>();
        }

        return builder;
    }
}

/// <summary>Names a collection that has its own <see cref="ICollectionStore"/>.</summary>
internal sealed record CollectionStoreRegistration(string Name);

/// <summary>Loads every collection with a store from it, before the server takes requests.</summary>
internal sealed class CollectionStoreLoader(IServiceScopeFactory scopes, CollectionRegistry registry, IEnumerable<CollectionStoreRegistration> registrations, CollectionLoadState? state = null) : IHostedService
{
    // Records are published in change sets of this many: one event each, none larger than a reset of that many records.
    private const int Batch = 1000;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var registration in registrations)
        {
            var collection = registry.GetCollection(registration.Name);
            var scope = scopes.CreateAsyncScope();
            await using (scope.ConfigureAwait(false))
            {
                var store = scope.ServiceProvider.GetRequiredKeyedService<ICollectionStore>(registration.Name);
                var batch = new List<RecordChange>(Batch);
                await foreach (var (id, record) in store.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    batch.Add(RecordChange.Create(id, record.Span));
                    if (batch.Count == Batch)
                    {
                        collection.Apply(new ChangeSet(batch));
                        batch.Clear();
                    }
                }

                // An empty store loads nothing: a change set needs at least one change.
                if (batch.Count > 0)
                {
                    collection.Apply(new ChangeSet(batch));
                }
            }

            state?.MarkLoaded(registration.Name);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
