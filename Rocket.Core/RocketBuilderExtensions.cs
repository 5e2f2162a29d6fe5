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
        builder.Services.AddOptions<LiveCollectionOptions>(name).ValidateOnStart();
        if (configure is not null)
        {
            builder.Services.Configure(name, configure);
        }

        return builder;
    }

    /// <summary>
    /// Registers a family of collections named by <paramref name="template"/>, such as <c>rooms/{room}/messages</c>:
    /// one collection per set of route values, created on first use and evicted when idle
    /// (<see cref="CollectionFamilyOptions"/>). Each instance's settings are the named <see cref="LiveCollectionOptions"/>
    /// <paramref name="template"/>, which <paramref name="configureCollections"/> may change.
    /// Map it with <c>MapRocketCollection(template)</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The template has no parameter, a parameter named <c>id</c>, or a segment that is not a literal or a whole <c>{parameter}</c>.</exception>
    public static IRocketBuilder AddCollectionFamily(this IRocketBuilder builder, string template, Action<CollectionFamilyOptions>? configure = null, Action<LiveCollectionOptions>? configureCollections = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        _ = CollectionFamily.Parse(template);
        var name = template.Trim('/');
        builder.Services.AddSingleton(new CollectionFamilyRegistration(name));
        builder.Services.AddOptions<CollectionFamilyOptions>(name).ValidateOnStart();
        builder.Services.AddOptions<LiveCollectionOptions>(name).ValidateOnStart();
        if (configure is not null)
        {
            builder.Services.Configure(name, configure);
        }

        if (configureCollections is not null)
        {
            builder.Services.Configure(name, configureCollections);
        }

        return builder;
    }
}
