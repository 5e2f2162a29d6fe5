using System;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rocket.Live;

namespace Rocket;

/// <summary>Registers Rocket in a service collection.</summary>
public static class RocketServiceCollectionExtensions
{
    /// <summary>
    /// Adds Rocket's core services: the <see cref="CollectionRegistry"/> of live collections and the
    /// <see cref="IRocketPublisher"/>. Calling it again is harmless (services are added with <c>TryAdd</c>).
    /// Rocket's meter (<see cref="Diagnostics.RocketTelemetry.MeterName"/>) is made with the container's
    /// <see cref="IMeterFactory"/>, which the .NET generic host registers; without one, no metrics are recorded.
    /// </summary>
    /// <returns>A builder to add collections and transports with.</returns>
    public static IRocketBuilder AddRocket(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions();

        // Every Rocket option is checked by a validator that names the option; the process-wide ones when the host starts,
        // each collection's and family's when it is registered (AddCollection, AddCollectionFamily).
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RocketOptions>, RocketOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LiveCollectionOptions>, LiveCollectionOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CollectionFamilyOptions>, CollectionFamilyOptionsValidator>());
        services.AddOptions<RocketOptions>().ValidateOnStart();
        services.TryAddSingleton(static provider => new CollectionRegistry(
            provider.GetServices<CollectionRegistration>(),
            provider.GetRequiredService<IOptionsMonitor<LiveCollectionOptions>>(),
            provider.GetService<ILoggerFactory>(),
            provider.GetRequiredService<IOptions<RocketOptions>>().Value,
            provider.GetService<IMeterFactory>(),
            provider.GetServices<CollectionFamilyRegistration>(),
            provider.GetRequiredService<IOptionsMonitor<CollectionFamilyOptions>>()));
        services.TryAddSingleton<IRocketPublisher, RocketPublisher>();
        return new RocketBuilder(services);
    }
}
