using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using Rocket.Live;
using Rocket.Transports;

namespace Rocket.LoadTest;

/// <summary>
/// <c>idle-core [--subscribers N]</c>: what Rocket's live core itself keeps per idle subscriber, with no server and no
/// socket. N subscriptions (with a request token and a stopping token, as the SSE endpoint makes them) on in-memory
/// transports that complete every write at once, each sent its reset; the managed heap after a forced collection, minus
/// before, divided by N. The transports and the tokens exist before the first measurement, so they are not counted.
/// </summary>
internal static class IdleSubscriberProbe
{
    public static async Task<int> RunAsync(int subscribers)
    {
        using var collection = new LiveCollection("bench");
        collection.Create("r1", Payload.Record(1, 0, 0));
        using var aborted = new CancellationTokenSource();
        using var stopping = new CancellationTokenSource();

        // A request token that already has a registration of its own, as Kestrel's has: the subscriber's registration
        // then costs its node only, not the token's registration list.
        using var existing = aborted.Token.Register(static () => { });
        var transports = new List<InMemoryTransport>(subscribers);
        for (var i = 0; i < subscribers; i++)
        {
            transports.Add(new InMemoryTransport(recordFrames: false));
        }

        var subscriptions = new List<Subscription>(subscribers);
        var before = Collect();
        for (var i = 0; i < subscribers; i++)
        {
            subscriptions.Add(collection.Subscribe(transports[i], null, aborted.Token, stopping.Token));
        }

        // Every reset written. The transports complete writes at once, so each loop wrote its reset and parked on its
        // empty queue before Subscribe returned.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        foreach (var transport in transports)
        {
            await transport.WaitForFramesAsync(1, deadline.Token);
        }

        var after = Collect();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{{\"mode\":\"idle-core\",\"subscribers\":{subscribers},\"managedBytesPerIdleSubscriber\":{(after - before) / (double)subscribers:F1}}}"));
        GC.KeepAlive(subscriptions);
        GC.KeepAlive(transports);
        return 0;
    }

    private static long Collect()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
