using System;
using Rocket.Live;

namespace Rocket.AspNetCore;

/// <summary>What a patch wrote: the record as the patch left it, and the cursor of the event it caused.</summary>
/// <param name="Record">The patched record, UTF-8 JSON.</param>
/// <param name="Cursor">The cursor of the event; a client that waits for it on a stream sees its own write.</param>
public readonly record struct PatchedRecord(ReadOnlyMemory<byte> Record, Cursor Cursor);
