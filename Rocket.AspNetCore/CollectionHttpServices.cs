using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Rocket.Live;

namespace Rocket.AspNetCore;

/// <summary>
/// What the endpoints of every mapped collection share, resolved once when the app maps them: the registered stream
/// transports, the record store, the HTTP limits, and which collections keep their records in a store of their own.
/// </summary>
internal sealed class CollectionHttpServices
{
    private readonly IRecordStore _store;
    private readonly HashSet<string> _ownStores;

    public CollectionHttpServices(IEnumerable<IRocketStreamEndpoint> streams, IRecordStore store, RocketHttpOptions options, IEnumerable<CollectionStoreRegistration> ownStores)
    {
        Streams = streams.ToArray();
        _store = store;
        Options = options;
        _ownStores = new HashSet<string>(ownStores.Select(static r => r.Name), StringComparer.Ordinal);
    }

    /// <summary>The registered stream transports, in registration order: the first that accepts a request serves it.</summary>
    public IRocketStreamEndpoint[] Streams { get; }

    /// <summary>The limits of request bodies and patches.</summary>
    public RocketHttpOptions Options { get; }

    /// <summary>Resolves the shared services from the app's container.</summary>
    public static CollectionHttpServices Create(IServiceProvider services) => new(
        services.GetServices<IRocketStreamEndpoint>(),
        services.GetService<IRecordStore>()
            ?? new LiveCollectionRecordStore(services.GetRequiredService<CollectionRegistry>(), services.GetRequiredService<IRocketPublisher>()),
        RocketHttpOptionsValidator.Checked(services.GetRequiredService<IOptions<RocketHttpOptions>>().Value),
        services.GetServices<CollectionStoreRegistration>());

    /// <summary>
    /// The store that keeps <paramref name="collection"/>'s records. A collection's own store is scoped: resolved from
    /// the request, so it may hold the request's <c>DbContext</c>.
    /// </summary>
    public IRecordStore StoreFor(HttpContext context, string collection) => _ownStores.Contains(collection)
        ? new CollectionStoreRecordStore(
            context.RequestServices.GetRequiredService<CollectionRegistry>(),
            context.RequestServices.GetRequiredKeyedService<ICollectionStore>(collection),
            context.RequestServices.GetRequiredService<CollectionWriteGates>())
        : _store;
}
