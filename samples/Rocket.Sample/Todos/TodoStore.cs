using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.EntityFrameworkCore;
using Rocket.AspNetCore;
using Rocket.Live;

namespace Rocket.Sample.Todos;

/// <summary>
/// The <c>todos</c> collection kept in the app's database through EF Core: a scoped service holding the request's
/// <see cref="TodoDbContext"/>. Rocket checks each write, this store commits it, and Rocket publishes the row as stored.
/// </summary>
public sealed class TodoStore(TodoDbContext db) : ICollectionStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async IAsyncEnumerable<KeyValuePair<string, ReadOnlyMemory<byte>>> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var todo in db.Todos.AsNoTracking().OrderBy(static t => t.Id).AsAsyncEnumerable().WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return new(todo.Id, JsonSerializer.SerializeToUtf8Bytes(todo, Json));
        }
    }

    public async ValueTask<StoreWrite> WriteAsync(RecordChange change, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(change);
        var existing = await db.Todos.FindAsync([change.Id], cancellationToken).ConfigureAwait(false);
        switch (change.Kind)
        {
            case RecordChangeKind.Destroy:
                if (existing is null)
                {
                    return StoreWrite.Refused(ChangeRefusal.RecordNotFound, $"There is no todo '{change.Id}'.");
                }

                db.Todos.Remove(existing);
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                return StoreWrite.Committed(default);

            default:
                Todo? incoming;
                try
                {
                    incoming = JsonSerializer.Deserialize<Todo>(change.Value.Span, Json);
                }
                catch (JsonException e)
                {
                    return StoreWrite.Refused(ChangeRefusal.InvalidJson, $"A todo is {{\"title\": string, \"done\": boolean}}: {e.Message}");
                }

                if (incoming is null)
                {
                    return StoreWrite.Refused(ChangeRefusal.InvalidJson, "A todo is an object.");
                }

                var row = existing ?? db.Todos.Add(new Todo { Id = change.Id }).Entity;
                row.Title = incoming.Title;
                row.Done = incoming.Done;
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);

                // The record as stored: the table's columns, whatever else the request carried.
                return StoreWrite.Committed(JsonSerializer.SerializeToUtf8Bytes(row, Json));
        }
    }
}
