using System;
using System.Collections.Generic;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Rocket.Postgres;

/// <summary>
/// Checks each table-backed collection's <see cref="PostgresCollectionOptions"/> when the host starts, naming the
/// collection and the option that is wrong.
/// </summary>
internal sealed class PostgresCollectionOptionsValidator : IValidateOptions<PostgresCollectionOptions>
{
    /// <summary>Registers the validator and asks for the options of collection <paramref name="name"/> to be checked when the host starts.</summary>
    public static void Register(IServiceCollection services, string name)
    {
        services.AddOptions<PostgresCollectionOptions>(name).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PostgresCollectionOptions>, PostgresCollectionOptionsValidator>());
    }

    public ValidateOptionsResult Validate(string? name, PostgresCollectionOptions options)
    {
        var failures = new List<string>();
        var prefix = $"PostgresCollectionOptions[\"{name}\"]";
        if (string.IsNullOrEmpty(options.ConnectionString))
        {
            failures.Add($"{prefix}.ConnectionString is not set; it is required.");
        }

        foreach (var (option, value) in new[]
        {
            (nameof(options.WriteTimeout), options.WriteTimeout),
            (nameof(options.ReconnectDelay), options.ReconnectDelay),
            (nameof(options.MaxReconnectDelay), options.MaxReconnectDelay),
            (nameof(options.CheckpointInterval), options.CheckpointInterval),
        })
        {
            if (value <= TimeSpan.Zero)
            {
                failures.Add($"{prefix}.{option} is {value}; it must be positive.");
            }
        }

        if (options.MaxReconnectDelay < options.ReconnectDelay)
        {
            failures.Add($"{prefix}.MaxReconnectDelay is {options.MaxReconnectDelay}; it must be at least ReconnectDelay ({options.ReconnectDelay}).");
        }

        if (string.IsNullOrEmpty(options.PositionsTable))
        {
            failures.Add($"{prefix}.PositionsTable is empty; it must name a table (default \"rocket_positions\").");
        }

        if (options.Columns is { } columns && columns.Contains(string.Empty))
        {
            failures.Add($"{prefix}.Columns has an empty name; each entry names a column of the table.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
