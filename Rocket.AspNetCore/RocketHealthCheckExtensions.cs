using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Rocket.AspNetCore;

namespace Rocket;

/// <summary>Health checks for Rocket, for <c>services.AddHealthChecks()</c>.</summary>
public static class RocketHealthCheckExtensions
{
    /// <summary>The name <see cref="AddRocket"/> registers its check under by default.</summary>
    public const string DefaultName = "rocket";

    /// <summary>
    /// Adds a check that is healthy once every registered collection is loaded and open: collections kept in an app's
    /// store (<c>AddCollection&lt;TStore&gt;</c>) report unhealthy until the store has been read when the host starts,
    /// and a disposed collection reports unhealthy. Its data lists each collection's subscriber count.
    /// </summary>
    public static IHealthChecksBuilder AddRocket(this IHealthChecksBuilder builder, string name = DefaultName, HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<CollectionLoadState>();
        return builder.Add(new HealthCheckRegistration(name, static provider => new CollectionsHealthCheck(provider.GetRequiredService<CollectionRegistry>(), provider.GetRequiredService<CollectionLoadState>(), provider.GetServices<CollectionStoreRegistration>()), failureStatus, tags));
    }
}

/// <summary>Which store-backed collections the loader has read (set by <see cref="CollectionStoreLoader"/>).</summary>
internal sealed class CollectionLoadState
{
    private readonly HashSet<string> _loaded = new(StringComparer.Ordinal);

    public void MarkLoaded(string name)
    {
        lock (_loaded)
        {
            _loaded.Add(name);
        }
    }

    public bool IsLoaded(string name)
    {
        lock (_loaded)
        {
            return _loaded.Contains(name);
        }
    }
}

internal sealed class CollectionsHealthCheck(CollectionRegistry registry, CollectionLoadState state, IEnumerable<CollectionStoreRegistration> stores) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var collection in registry.Collections)
        {
            if (collection.IsDisposed)
            {
                problems.Add($"collection '{collection.Name}' is disposed");
                continue;
            }

            data[collection.Name] = collection.SubscriberCount;
        }

        foreach (var store in stores.Where(store => !state.IsLoaded(store.Name)))
        {
            problems.Add($"collection '{store.Name}' is not loaded from its store yet");
        }

        return Task.FromResult(problems.Count == 0
            ? HealthCheckResult.Healthy($"{data.Count} collections loaded", data)
            : new HealthCheckResult(context.Registration.FailureStatus, string.Join("; ", problems), data: data));
    }
}
