namespace Rocket.Postgres;

/// <summary>Names a collection fed by a PostgreSQL table.</summary>
internal sealed record PostgresCollectionRegistration(string Name);
