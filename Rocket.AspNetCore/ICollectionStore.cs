using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Rocket.Live;

namespace Rocket.AspNetCore;

/// <summary>
/// A collection's own store: the app's database, for one collection. Register it with
/// <c>AddRocket().AddCollection&lt;TStore&gt;("todos")</c>; it is resolved from the request's scope (so it may hold an
/// EF Core <c>DbContext</c>) for every write, and from a scope of its own to load the collection at startup.
/// </summary>
/// <remarks>
/// Rocket keeps the collection's live state (GET of the list and of a record, every stream) and sends every write of
/// the REST scaffold to the store first: Rocket parses and checks the request, applies a patch to the record it holds,
/// checks existence and <c>If-Match</c> against its state, then the store commits, and Rocket publishes the record as
/// the store committed it. Writes to one collection are committed and published one at a time, so events come in the
/// order the store committed them. The store answers with a <see cref="StoreWrite"/> (a refusal is a value, not an
/// exception); an exception is a failure, answered 500 with nothing published.
/// </remarks>
public interface ICollectionStore
{
    /// <summary>Every record the store holds (id and UTF-8 JSON object), read once at startup; an empty store is an empty collection.</summary>
    IAsyncEnumerable<KeyValuePair<string, ReadOnlyMemory<byte>>> ReadAllAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Commits one change: a create, an update (the whole new record) or a destroy. A conditional one carries
    /// <see cref="RecordChange.Expected"/>, which Rocket has already checked against its state; a store with its own
    /// concurrency check (a row version) may refuse it too.
    /// </summary>
    /// <returns>The record as committed (the store may add or normalize fields), or the refusal.</returns>
    ValueTask<StoreWrite> WriteAsync(RecordChange change, CancellationToken cancellationToken = default);
}
