using System;
using System.Collections.Generic;
using System.Threading;
using Rocket.Transports;

namespace Rocket.Live;

/// <summary>
/// A collection's subscribers: the list the fan-out walks, who may join it (the collection's and the process's
/// subscriber limits), and what reaches all of them at once: an end (disposal, a reload from the source), the host's
/// stopping token, the heartbeat timer.
/// </summary>
/// <remarks>
/// It holds the collection's own lock, not one of its own: the list and the stopping token are read and written only
/// under it, so registering a subscriber is atomic with its replay and with every event published.
/// </remarks>
internal sealed class SubscriberRegistry : IDisposable
{
    private readonly Lock _lock;
    private readonly List<Subscription> _subscriptions = [];
    private readonly string _collectionName;
    private readonly int _maxSubscribers;
    private readonly ITimer? _heartbeat;

    // The host's stopping token most subscribers share, registered on once for all of them (see ShareStopping).
    private CancellationToken _stopping;
    private CancellationTokenRegistration _stoppingRegistration;

    public SubscriberRegistry(Lock collectionLock, string collectionName, int maxSubscribers, TimeSpan heartbeatInterval)
    {
        _lock = collectionLock;
        _collectionName = collectionName;
        _maxSubscribers = maxSubscribers;
        if (heartbeatInterval > TimeSpan.Zero && heartbeatInterval != Timeout.InfiniteTimeSpan)
        {
            // One timer per collection, not one per subscriber: 10,000 idle subscribers cost one tick.
            _heartbeat = TimeProvider.System.CreateTimer(static state => ((SubscriberRegistry)state!).Heartbeat(), this, heartbeatInterval, heartbeatInterval);
        }
    }

    // The process's subscriber limit, shared by the collections of one registry; none for a collection made alone.
    public SubscriberBudget? Budget { get; set; }

    // Under the lock: the registered subscriptions, each at its Index. The fan-out walks them backwards (see Unregister).
    public List<Subscription> Listed => _subscriptions;

    // Under the lock.
    public int Count => _subscriptions.Count;

    // Under the lock: whether Admit would take a place now.
    public bool HasRoom => _subscriptions.Count < _maxSubscribers && (Budget?.HasRoom ?? true);

    // Under the lock: takes a place for one more subscriber (and one of the process's budget), or says why there is none.
    public string? Admit()
    {
        if (_subscriptions.Count >= _maxSubscribers)
        {
            return $"Collection '{_collectionName}' has {_maxSubscribers} subscribers, as many as it admits; try again later.";
        }

        if (Budget is { } budget && !budget.TryTake())
        {
            return "The server has as many subscribers as it admits; try again later.";
        }

        return null;
    }

    // Under the lock, after Admit.
    public void Add(Subscription subscription)
    {
        subscription.Index = _subscriptions.Count;
        _subscriptions.Add(subscription);
    }

    public void Unregister(Subscription subscription)
    {
        lock (_lock)
        {
            var index = subscription.Index;
            if (index < 0)
            {
                return;
            }

            // Swap-remove: O(1), and the fan-out loop walks backwards so a swap never skips anyone.
            var last = _subscriptions[^1];
            _subscriptions[index] = last;
            last.Index = index;
            _subscriptions.RemoveAt(_subscriptions.Count - 1);
            subscription.Index = -1;
            Budget?.Release();
        }
    }

    // Under the lock: ends and unlists every subscription.
    public void EndAll(CloseReason reason)
    {
        for (var i = _subscriptions.Count - 1; i >= 0; i--)
        {
            var subscription = _subscriptions[i];
            subscription.Index = -1;
            subscription.End(reason);
            Budget?.Release();
        }

        _subscriptions.Clear();
    }

    // Under the lock, with the subscription already listed. Whether the collection's own registration on `stoppingToken`
    // ends this subscriber, so it needs none of its own (about 80 B per idle subscriber): true for the first stopping
    // token the collection sees and every later subscriber with the same one (a host passes its ApplicationStopping to
    // all). Another token, or one already canceled, is left to the subscription. The flag is set before registering, as
    // a token canceled meanwhile runs the callback at once, on this thread.
    public bool ShareStopping(Subscription subscription, CancellationToken stoppingToken)
    {
        if (!stoppingToken.CanBeCanceled || stoppingToken.IsCancellationRequested)
        {
            return false;
        }

        if (_stopping.CanBeCanceled)
        {
            return subscription.StopsWithCollection = _stopping == stoppingToken;
        }

        subscription.StopsWithCollection = true;
        _stopping = stoppingToken;
        _stoppingRegistration = stoppingToken.UnsafeRegister(static state => ((SubscriberRegistry)state!).StopSubscribers(), this);
        return true;
    }

    // Outside the lock, after the collection ended every subscription: stops the timer and the stopping registration.
    public void Dispose()
    {
        _heartbeat?.Dispose();
        _stoppingRegistration.Dispose();
    }

    // The host is stopping: ends every subscription that shares the token with ShuttingDown, so each client is told.
    private void StopSubscribers()
    {
        Subscription[] stopping;
        lock (_lock)
        {
            stopping = _subscriptions.FindAll(static subscription => subscription.StopsWithCollection).ToArray();
        }

        foreach (var subscription in stopping)
        {
            subscription.Stop();
        }
    }

    private void Heartbeat()
    {
        lock (_lock)
        {
            foreach (var subscription in _subscriptions)
            {
                subscription.TryHeartbeat();
            }
        }
    }
}
