using System;
using Microsoft.Extensions.DependencyInjection;
using Rocket.Live;

namespace Rocket;

/// <summary>Adds live collections to Rocket.</summary>
public static class RocketBuilderExtensions
{
    /// <summary>
    /// Registers the live collection <paramref name="name"/>; its options are the named
    /// <see cref="LiveCollectionOptions"/> <paramref name="name"/> (defaults stated on each property), which
    /// <paramref name="configure"/> and any other <c>Configure&lt;LiveCollectionOptions&gt;(name, ...)</c> may change.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty.</exception>
    public static IRocketBuilder AddCollection(this IRocketBuilder builder, string name, Action<LiveCollectionOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        builder.Services.AddSingleton(new CollectionRegistration(name));
        if (configure is not null)
        {
            builder.Services.Configure(name, configure);
        }

        return builder;
    }
}
