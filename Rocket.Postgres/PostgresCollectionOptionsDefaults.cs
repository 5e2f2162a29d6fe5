using System;
using Microsoft.Extensions.Options;

namespace Rocket.Postgres;

/// <summary>
/// Fills in the defaults of a table-backed collection that come from its name (the table, the publication, the slot's
/// prefix), before the app's own configuration runs, so the app's values win and whoever reads the options (the source,
/// the record store, the app itself through <c>IOptionsMonitor</c>) sees the same names.
/// </summary>
internal sealed class PostgresCollectionOptionsDefaults : IConfigureNamedOptions<PostgresCollectionOptions>
{
    public void Configure(string? name, PostgresCollectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrEmpty(name))
        {
            return;
        }

        options.Table ??= name;
        options.Publication ??= "rocket_" + name;
        options.SlotPrefix ??= "rocket_" + name;
    }

    public void Configure(PostgresCollectionOptions options) => Configure(Options.DefaultName, options);
}
