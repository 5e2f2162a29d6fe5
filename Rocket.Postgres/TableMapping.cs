using System;
using System.Buffers;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;
using Rocket.JsonPatch;
using Rocket.Live;

namespace Rocket.Postgres;

/// <summary>
/// A table as a collection: which column is the id, which columns form a record, and how a row's values (in
/// PostgreSQL's text form, as logical replication and <c>::text</c> give them) become a JSON record and back.
/// </summary>
/// <remarks>
/// A record is <c>{"id": key as text, column: value, ...}</c> in the table's column order. Values: <c>boolean</c> as
/// true/false; integer, floating-point and numeric types as JSON numbers (NaN and infinities as strings);
/// <c>json</c>/<c>jsonb</c> as the JSON value they hold, written compactly; NULL as null; every other type as the string
/// PostgreSQL prints for it. Both directions (replication and the write path's reads) go through the same function, so
/// a record read in a transaction is byte for byte the one the stream carries: what <c>If-Match</c> and patches compare.
/// </remarks>
internal sealed class TableMapping
{
    private const uint BoolOid = 16;
    private const uint Int8Oid = 20;
    private const uint Int2Oid = 21;
    private const uint Int4Oid = 23;
    private const uint OidOid = 26;
    private const uint JsonOid = 114;
    private const uint Float4Oid = 700;
    private const uint Float8Oid = 701;
    private const uint NumericOid = 1700;
    private const uint JsonbOid = 3802;

    private readonly Dictionary<string, Column> _byName;

    private TableMapping(uint oid, string schema, string name, Column[] keys, Column[] columns)
    {
        Oid = oid;
        Schema = schema;
        Name = name;
        QualifiedName = Quote(schema) + "." + Quote(name);
        Keys = keys;
        Columns = columns;
        _byName = columns.ToDictionary(c => c.Name, StringComparer.Ordinal);
    }

    public uint Oid { get; }

    public string Schema { get; }

    public string Name { get; }

    public string QualifiedName { get; }

    /// <summary>The primary key's columns, in the key's order: their texts form the record's id.</summary>
    public Column[] Keys { get; }

    /// <summary>Whether the primary key has several columns (then they are also members of the record).</summary>
    public bool CompositeKey => Keys.Length > 1;

    /// <summary>
    /// The record's members besides <c>id</c>, in table order: the columns besides the key (a single-column key is only
    /// the <c>id</c>), and with a composite key its columns too, so a record shows their typed values.
    /// </summary>
    public Column[] Columns { get; }

    /// <summary>The position of <paramref name="name"/> in the key, or -1.</summary>
    public int KeyIndex(string name) => Array.FindIndex(Keys, k => k.Name == name);

    /// <summary>
    /// The id of a row from its key columns' texts: the text itself for a single-column key; for a composite key the
    /// texts joined with <c>,</c>, each with <c>\</c> and <c>,</c> escaped by a backslash (<c>(7, 'a,b')</c> is
    /// <c>7,a\,b</c>).
    /// </summary>
    public static string EncodeId(ReadOnlySpan<string> parts)
    {
        if (parts.Length == 1)
        {
            return parts[0];
        }

        var builder = new StringBuilder();
        for (var i = 0; i < parts.Length; i++)
        {
            if (i > 0)
            {
                builder.Append(',');
            }

            foreach (var c in parts[i])
            {
                if (c is '\\' or ',')
                {
                    builder.Append('\\');
                }

                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    /// <summary>The key columns' texts of <paramref name="id"/> (see <see cref="EncodeId"/>); false when it is not one.</summary>
    public bool TryDecodeId(string id, out string[] parts)
    {
        if (!CompositeKey)
        {
            parts = [id];
            return true;
        }

        var list = new List<string>(Keys.Length);
        var current = new StringBuilder();
        for (var i = 0; i < id.Length; i++)
        {
            var c = id[i];
            if (c == '\\')
            {
                if (++i == id.Length || id[i] is not ('\\' or ','))
                {
                    parts = [];
                    return false;
                }

                current.Append(id[i]);
            }
            else if (c == ',')
            {
                list.Add(current.ToString());
                current.Clear();
            }
            else
            {
                current.Append(c);
            }
        }

        list.Add(current.ToString());
        parts = [.. list];
        return parts.Length == Keys.Length;
    }

    /// <summary>The key columns' texts of a record's id, for a write; a malformed id names no row (404).</summary>
    public string[] KeyArguments(string id) => TryDecodeId(id, out var parts)
        ? parts
        : throw new ChangeRefusedException(ChangeRefusal.RecordNotFound, id, 0, $"Table {Schema}.{Name} has no record '{id}': its id is {IdShape}.");

    /// <summary>The SQL condition that selects the row of a record, its key columns' texts in parameters from <paramref name="first"/> on.</summary>
    public string KeyCondition(int first = 1) =>
        string.Join(" AND ", Keys.Select((k, i) => $"{k.Quoted} = CAST(${first + i} AS {k.TypeName})"));

    private string IdShape => CompositeKey
        ? $"its key columns ({string.Join(", ", Keys.Select(k => k.Name))}) joined with ',' (a ',' or '\\' in a value escaped with '\\')"
        : $"the text of {Keys[0].Name}";

    public bool TryGetColumn(string name, out Column column) => _byName.TryGetValue(name, out column!);

    /// <summary>Reads the table's definition and checks it can be a collection; throws a clear error when it cannot.</summary>
    public static async Task<TableMapping> DiscoverAsync(NpgsqlConnection connection, string collection, PostgresCollectionOptions options, CancellationToken cancellationToken)
    {
        var table = options.Table ?? collection;
        uint oid;
        string schema, name;
        char identity;
        await using (var command = new NpgsqlCommand("SELECT c.oid, n.nspname, c.relname, c.relreplident, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)", connection))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = table });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new InvalidOperationException($"Collection '{collection}': table '{table}' does not exist in database '{connection.Database}'. Create it first, or set PostgresCollectionOptions.Table.");
            }

            oid = reader.GetFieldValue<uint>(0);
            schema = reader.GetString(1);
            name = reader.GetString(2);
            identity = reader.GetChar(3);
            if (reader.GetChar(4) is not ('r' or 'p'))
            {
                throw new InvalidOperationException($"Collection '{collection}': '{table}' is not a table (views and other relations are not published by logical replication).");
            }
        }

        var all = new List<Column>();
        await using (var command = new NpgsqlCommand(
            """
            SELECT a.attname, a.atttypid, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                   a.atthasdef OR a.attidentity <> '', a.attgenerated <> '',
                   coalesce((SELECT k.n::int FROM pg_index i, unnest(i.indkey) WITH ORDINALITY k(attnum, n) WHERE i.indrelid = a.attrelid AND i.indisprimary AND k.attnum = a.attnum), 0)
            FROM pg_attribute a WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
            """,
            connection))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = oid, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Oid });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                all.Add(new Column(reader.GetString(0), reader.GetFieldValue<uint>(1), reader.GetString(2), reader.GetBoolean(3), reader.GetBoolean(4), reader.GetBoolean(5), reader.GetInt32(6)));
            }
        }

        var qualified = $"{schema}.{name}";
        var primaryKey = all.Where(c => c.KeyPosition > 0).OrderBy(c => c.KeyPosition).ToList();
        if (primaryKey.Count == 0)
        {
            throw new InvalidOperationException(
                $"Collection '{collection}': table {qualified} has no primary key. Rocket addresses records by a key that every change carries, and logical replication identifies updated and deleted rows by the primary key: add one (ALTER TABLE {qualified} ADD PRIMARY KEY (<column>)).");
        }

        if (options.KeyColumn is { } keyColumn && (primaryKey.Count > 1 || !string.Equals(keyColumn, primaryKey[0].Name, StringComparison.Ordinal)))
        {
            throw new InvalidOperationException($"Collection '{collection}': KeyColumn '{keyColumn}' is not the primary key of {qualified} ({string.Join(", ", primaryKey.Select(c => "'" + c.Name + "'"))}); deletes carry only the primary key, so the id must be it. Leave KeyColumn unset.");
        }

        if (identity is 'n' or 'i')
        {
            throw new InvalidOperationException($"Collection '{collection}': table {qualified} has REPLICA IDENTITY {(identity == 'n' ? "NOTHING" : "USING INDEX")}; Rocket needs DEFAULT (the primary key) or FULL, so deletes say which record went.");
        }

        Column[] columns;
        if (options.ColumnList is { } wanted)
        {
            var missing = wanted.Where(w => !all.Any(c => c.Name == w)).ToList();
            if (missing.Count > 0)
            {
                throw new InvalidOperationException($"Collection '{collection}': table {qualified} has no column {string.Join(", ", missing.Select(m => "'" + m + "'"))} (it has {string.Join(", ", all.Select(c => c.Name))}).");
            }

            // A composite key's columns are always members: the id alone does not give their types.
            columns = [.. all.Where(c => primaryKey.Count > 1 ? c.KeyPosition > 0 || wanted.Contains(c.Name) : c.KeyPosition == 0 && wanted.Contains(c.Name))];
        }
        else
        {
            columns = [.. all.Where(c => primaryKey.Count > 1 || c.KeyPosition == 0)];
        }

        if (columns.Any(c => c.Name == "id"))
        {
            throw new InvalidOperationException(primaryKey.Count > 1
                ? $"Collection '{collection}': table {qualified} has a column 'id' in its composite primary key; a record's 'id' member is the key's columns joined, so no column may be called 'id'."
                : $"Collection '{collection}': table {qualified} has a column 'id' that is not its primary key; a record's 'id' member is the key ('{primaryKey[0].Name}'). Leave 'id' out with PostgresCollectionOptions.Columns.");
        }

        return new TableMapping(oid, schema, name, [.. primaryKey], columns);
    }

    /// <summary>The SQL list that selects a row's key and record columns as text, in <see cref="ReadRecord"/>'s order.</summary>
    public string SelectList => string.Join(", ", Keys.Concat(Columns).Select(c => c.Quoted + "::text"));

    /// <summary>Reads a row selected with <see cref="SelectList"/> as its id and record.</summary>
    public (string Id, byte[] Record) ReadRecord(NpgsqlDataReader reader)
    {
        var parts = new string[Keys.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            parts[i] = reader.GetString(i);
        }

        var id = EncodeId(parts);
        var values = new ColumnValue[Columns.Length];
        for (var i = 0; i < Columns.Length; i++)
        {
            var at = Keys.Length + i;
            values[i] = reader.IsDBNull(at) ? ColumnValue.Null : ColumnValue.FromText(reader.GetString(at));
        }

        return (id, BuildRecord(id, values));
    }

    /// <summary>The record of a row: <paramref name="values"/> in <see cref="Columns"/> order.</summary>
    public byte[] BuildRecord(string id, ReadOnlySpan<ColumnValue> values)
    {
        var output = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(output, JsonPatchWriter.WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("id"u8, id);
            for (var i = 0; i < Columns.Length; i++)
            {
                json.WritePropertyName(Columns[i].Name);
                WriteValue(json, Columns[i], values[i]);
            }

            json.WriteEndObject();
        }

        return output.WrittenSpan.ToArray();
    }

    private static void WriteValue(Utf8JsonWriter json, Column column, ColumnValue value)
    {
        if (value.Raw is { } raw)
        {
            json.WriteRawValue(raw, skipInputValidation: true);
            return;
        }

        if (value.Text is not { } text)
        {
            json.WriteNullValue();
            return;
        }

        switch (column.TypeOid)
        {
            case BoolOid:
                json.WriteBooleanValue(text is "t" or "true");
                break;
            case Int2Oid or Int4Oid or Int8Oid or OidOid or Float4Oid or Float8Oid or NumericOid:
                if (text is "NaN" or "Infinity" or "-Infinity")
                {
                    json.WriteStringValue(text);
                }
                else
                {
                    json.WriteRawValue(text);
                }

                break;
            case JsonOid or JsonbOid:
                // Compact, so a json column's own whitespace never reaches a frame (and the bytes are the same whichever way they came).
                using (var document = JsonDocument.Parse(text))
                {
                    document.RootElement.WriteTo(json);
                }

                break;
            default:
                json.WriteStringValue(text);
                break;
        }
    }

    /// <summary>
    /// Turns a record written through the REST scaffold into column values (text to cast, or null), refusing anything
    /// the table could not store as the same JSON: a member that is not a column, a value of the wrong JSON type, a null
    /// in a NOT NULL column. Refused before the database sees it. Members left out are absent from the result (an insert
    /// leaves the column to its default; an update sets it to NULL, as a PUT replaces the whole record).
    /// </summary>
    public Dictionary<Column, string?> ParseRecord(string id, ReadOnlySpan<byte> record, bool forInsert)
    {
        using var document = JsonDocument.Parse(record.ToArray());
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw Refused(id, "A record is a JSON object.");
        }

        string[]? key = null;
        if (CompositeKey && !TryDecodeId(id, out key))
        {
            throw forInsert
                ? new ChangeRefusedException(ChangeRefusal.InvalidId, id, 0, $"Table {Schema}.{Name} has a composite key: a record's id is {IdShape}. The scaffold's POST assigns an id of its own, so create its rows with SQL (or another writer of the table); PUT, PATCH and DELETE work on existing rows.")
                : new ChangeRefusedException(ChangeRefusal.RecordNotFound, id, 0, $"Table {Schema}.{Name} has no record '{id}': its id is {IdShape}.");
        }

        var values = new Dictionary<Column, string?>();
        foreach (var member in document.RootElement.EnumerateObject())
        {
            if (member.NameEquals("id"u8))
            {
                continue;
            }

            if (!_byName.TryGetValue(member.Name, out var column))
            {
                throw Refused(id, $"Member '{member.Name}' is not a column of table {Schema}.{Name} (its record has: id, {string.Join(", ", Columns.Select(c => c.Name))}).");
            }

            if (column.Generated)
            {
                // Computed by the table: what the client sent is not stored, and the stream carries what the table computes.
                continue;
            }

            if (column.KeyPosition > 0)
            {
                // Part of a composite key: the id says which row, so the member may only repeat it.
                if (ToText(id, column, member.Value) != key![column.KeyPosition - 1])
                {
                    throw Refused(id, $"Member '{column.Name}' is part of the record's id ('{id}'): it must be {key[column.KeyPosition - 1]} or left out; a record's key is changed with SQL.");
                }

                continue;
            }

            values[column] = ToText(id, column, member.Value);
        }

        foreach (var column in Columns)
        {
            if (column.KeyPosition == 0 && column.NotNull && !column.Generated && (values.TryGetValue(column, out var text) ? text is null : !(forInsert && column.HasDefault)))
            {
                throw Refused(id, $"Member '{column.Name}' is required: column {column.Name} of table {Schema}.{Name} is NOT NULL.");
            }
        }

        return values;
    }

    private static string? ToText(string id, Column column, JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        switch (column.TypeOid)
        {
            case BoolOid when value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                return value.ValueKind == JsonValueKind.True ? "true" : "false";
            case Int2Oid when value.TryGetInt16(out _):
            case Int4Oid when value.TryGetInt32(out _):
            case Int8Oid when value.TryGetInt64(out _):
            case OidOid when value.TryGetUInt32(out _):
                return value.GetRawText();
            case Float4Oid or Float8Oid or NumericOid when value.ValueKind == JsonValueKind.Number:
                return value.GetRawText();
            case JsonOid or JsonbOid:
                return value.GetRawText();
            case BoolOid or Int2Oid or Int4Oid or Int8Oid or OidOid or Float4Oid or Float8Oid or NumericOid:
                break;
            default:
                if (value.ValueKind == JsonValueKind.String)
                {
                    return value.GetString();
                }

                break;
        }

        throw Refused(id, $"Member '{column.Name}' must be {Expected(column)} (column {column.Name} is {column.TypeName}); it is {value.ValueKind.ToString().ToLowerInvariant()}.");
    }

    private static string Expected(Column column) => column.TypeOid switch
    {
        BoolOid => "true, false or null",
        Int2Oid or Int4Oid or Int8Oid or OidOid => "an integer in the column's range, or null",
        Float4Oid or Float8Oid or NumericOid => "a number or null",
        _ => "a string or null",
    };

    private static ChangeRefusedException Refused(string id, string message) => new(ChangeRefusal.InvalidJson, id, 0, message);

    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>A column of the table.</summary>
    internal sealed record Column(string Name, uint TypeOid, string TypeName, bool NotNull, bool HasDefault, bool Generated, int KeyPosition)
    {
        public string Quoted { get; } = Quote(Name);
    }
}

/// <summary>A value of a row: PostgreSQL's text for it, SQL NULL, or (an unchanged TOASTed value) the JSON it had.</summary>
internal readonly struct ColumnValue
{
    private ColumnValue(string? text, byte[]? raw)
    {
        Text = text;
        Raw = raw;
    }

    public static ColumnValue Null => default;

    public string? Text { get; }

    public byte[]? Raw { get; }

    public static ColumnValue FromText(string text) => new(text, null);

    public static ColumnValue FromJson(byte[] raw) => new(null, raw);

    public override string ToString() => Text ?? (Raw is null ? "NULL" : Encoding.UTF8.GetString(Raw));
}

internal static class Lsn
{
    public static string Format(ulong lsn) => string.Create(CultureInfo.InvariantCulture, $"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}");
}
