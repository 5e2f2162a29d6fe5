using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Rocket.Live;
using Rocket.Transports;

namespace Rocket.Benchmarks.Live;

/// <summary>
/// What collection family instances hold in memory (<c>--family-memory [count]</c>): the managed heap after a full
/// collection, before and after creating <c>count</c> instances, idle and then with one subscriber each (a transport
/// that keeps nothing, so the figure is Rocket's own: the collection, its log, the subscription and its queue; a
/// connection's cost is the transport's, measured in docs/benchmarks.md "Memory"). Retained, not allocated, bytes.
/// </summary>
internal static class FamilyMemory
{
    public static int Run(int count)
    {
        var services = new ServiceCollection();
        services.AddRocket().AddCollectionFamily("rooms/{room}/messages", o =>
        {
            o.MaxInstances = count;
            o.IdleTimeout = Timeout.InfiniteTimeSpan;
        });
        using var provider = services.BuildServiceProvider();
        var family = FirstFamily(provider.GetRequiredService<CollectionRegistry>());

        var before = Heap();
        var instances = new List<LiveCollection>(count);
        for (var i = 0; i < count; i++)
        {
            var room = i.ToString(CultureInfo.InvariantCulture);
            family.GetOrCreate(key => room, out var collection, out _);
            instances.Add(collection!);
        }

        var idle = Heap();
        var subscriptions = new List<Subscription>(count);
        foreach (var collection in instances)
        {
            subscriptions.Add(collection.Subscribe(NullTransport.Instance));
        }

        // The subscriptions' first write (the reset) goes out on the thread pool: wait until every one has written it.
        while (NullTransport.Instance.Writes < count)
        {
            Thread.Sleep(10);
        }

        var subscribed = Heap();
        Console.WriteLine($"instances: {count:N0}");
        Console.WriteLine($"idle instance: {(idle - before) / (double)count:N0} B each ({(idle - before) / 1048576.0:N1} MiB in all)");
        Console.WriteLine($"instance with one subscriber: {(subscribed - before) / (double)count:N0} B each ({(subscribed - before) / 1048576.0:N1} MiB in all)");
        GC.KeepAlive(instances);
        foreach (var subscription in subscriptions)
        {
            subscription.Dispose();
        }

        return 0;
    }

    private static CollectionFamily FirstFamily(CollectionRegistry registry)
    {
        foreach (var family in registry.Families)
        {
            return family;
        }

        throw new InvalidOperationException("no family");
    }

    private static long Heap()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    // Takes every write at once and keeps nothing.
    private sealed class NullTransport : ITransport
    {
        public static readonly NullTransport Instance = new();

        private long _writes;

        public long Writes => Interlocked.Read(ref _writes);

        public TransportDescriptor Descriptor { get; } = new("null");

        public IEventFramer Framer => InMemoryEventFramer.Instance;

        public ValueTask WriteAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _writes);
            return default;
        }

        public ValueTask WriteManyAsync(ReadOnlyMemory<ReadOnlyMemory<byte>> frames, CancellationToken cancellationToken = default)
        {
            Interlocked.Add(ref _writes, frames.Length);
            return default;
        }

        public ValueTask HeartbeatAsync(CancellationToken cancellationToken = default) => default;

        public ValueTask CloseAsync(CloseReason reason, CancellationToken cancellationToken = default) => default;
    }
}
