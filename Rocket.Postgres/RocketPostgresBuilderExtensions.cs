using System;
using System.Linq;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Rocket.AspNetCore;
using Rocket.Live;

namespace Rocket.Postgres;

/// <summary>Serves PostgreSQL tables as live collections.</summary>
public static class RocketPostgresBuilderExtensions
{
    /// <summary>
    /// Registers the live collection <paramref name="name"/> as the table of the same name in the database at
    /// <paramref name="connectionString"/>; see
    /// <see cref="AddPostgresCollection(IRocketBuilder, string, Action{PostgresCollectionOptions}, Action{LiveCollectionOptions}?)"/>.
    /// </summary>
    public static IRocketBuilder AddPostgresCollection(this IRocketBuilder builder, string name, string connectionString)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        return builder.AddPostgresCollection(name, o =>
        {
            o.ConnectionString = connectionString;
        });
    }

    /// <summary>
    /// Registers the live collection <paramref name="name"/> fed by a PostgreSQL table through logical replication: it
    /// is loaded from the table when the host starts (the host fails to start when the table cannot be followed: it is
    /// missing, has no primary key, or the server is not at <c>wal_level = logical</c>), then every committed transaction
    /// on the table, whoever made it, is one event in commit order. The REST scaffold's writes go to the table and reach
    /// subscribers through replication like any other change.
    /// </summary>
    public static IRocketBuilder AddPostgresCollection(this IRocketBuilder builder, string name, Action<PostgresCollectionOptions> configure, Action<LiveCollectionOptions>? configureCollection = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.AddCollection(name, configureCollection);

        // The defaults from the name first (registered once, before any app configuration), then the app's values.
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<PostgresCollectionOptions>, PostgresCollectionOptionsDefaults>());
        builder.Services.Configure(name, configure);
        PostgresCollectionOptionsValidator.Register(builder.Services, name);
        builder.Services.AddSingleton(new PostgresCollectionRegistration(name));
        if (!builder.Services.Any(static d => d.ServiceType == typeof(PostgresSourceService)))
        {
            // One service starts every table-backed collection, whatever the number of registrations.
            builder.Services.AddSingleton<PostgresSourceService>();
            builder.Services.AddHostedService(static provider => provider.GetRequiredService<PostgresSourceService>());
        }

        builder.Services.TryAddSingleton<IRecordStore, PostgresRecordStore>();
        return builder;
    }
}
