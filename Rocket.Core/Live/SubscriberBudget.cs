using System.Threading;

namespace Rocket.Live;

/// <summary>The subscribers a process admits, shared by all its collections: a count taken at subscribe and given back at the end.</summary>
internal sealed class SubscriberBudget(int max)
{
    private int _taken;

    public bool TryTake()
    {
        if (Interlocked.Increment(ref _taken) <= max)
        {
            return true;
        }

        Interlocked.Decrement(ref _taken);
        return false;
    }

    public bool HasRoom => Volatile.Read(ref _taken) < max;

    public void Release() => Interlocked.Decrement(ref _taken);
}
