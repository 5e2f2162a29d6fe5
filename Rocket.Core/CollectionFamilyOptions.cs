using System;

namespace Rocket;

/// <summary>
/// Settings of a collection family (<see cref="RocketBuilderExtensions.AddCollectionFamily"/>), the named options of its
/// template. Each instance's own settings (history, queues, budgets) are the named <see cref="Live.LiveCollectionOptions"/>
/// of the same template.
/// </summary>
public sealed class CollectionFamilyOptions
{
    /// <summary>
    /// How long an instance may go without a subscriber and without being used (a GET, a stream, a write) before it is
    /// evicted with its history; default 5 minutes. A cursor of an evicted instance gets a reset (the next instance has
    /// a new epoch), never a wrong replay. An instance with a subscriber is never evicted.
    /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> (or <see cref="TimeSpan.Zero"/>): never evicted for idleness, only to
    /// make room under <see cref="MaxInstances"/>.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The most instances alive at once; default 10,000. Creating one more evicts the least recently used idle instance
    /// (no subscriber); when every instance has subscribers the request is refused (503 over HTTP).
    /// </summary>
    public int MaxInstances { get; set; } = 10_000;

    /// <summary>
    /// The longest route value, in characters; default 64. Values are also limited to ASCII letters, digits and
    /// <c>- _ . ~ @</c> (never <c>.</c> or <c>..</c> alone), so an instance's name is its URL path as written.
    /// </summary>
    public int MaxValueLength { get; set; } = 64;
}
