using System;
using Microsoft.Extensions.Configuration;
using Npgsql;
using Rocket.Postgres;

namespace Rocket.Sample.Todos;

/// <summary>
/// <c>/todos</c> as a PostgreSQL table followed live: every committed change to it, made by this app's REST scaffold,
/// by psql or by any other program, reaches every subscriber as a JSON Patch.
/// </summary>
public static class PostgresTodos
{
    /// <summary>
    /// When the connection string <c>Postgres</c> is set, creates the table <c>todos</c> if missing and serves it as the
    /// collection <c>todos</c>; returns whether it did. The server must run with <c>wal_level = logical</c> and the user
    /// needs the REPLICATION attribute (docs/postgres.md).
    /// </summary>
    public static bool AddPostgresTodos(this IRocketBuilder rocket, IConfiguration configuration)
    {
        if (configuration.GetConnectionString("Postgres") is not { Length: > 0 } connectionString)
        {
            return false;
        }

        using (var connection = new NpgsqlConnection(connectionString))
        {
            connection.Open();
            using var create = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS todos (id text PRIMARY KEY, title text, done boolean)", connection);
            create.ExecuteNonQuery();
        }

        rocket.AddPostgresCollection("todos", connectionString);
        return true;
    }
}
