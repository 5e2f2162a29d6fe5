using System;
using Rocket.Live;

namespace Rocket.AspNetCore;

/// <summary>What a write stored: the record as stored, and the cursor of the event it caused.</summary>
/// <param name="Record">The record as the store holds it now, UTF-8 JSON (a store may add or normalize fields).</param>
/// <param name="Cursor">The cursor of the event; a client that waits for it on a stream sees its own write.</param>
public readonly record struct StoredRecord(ReadOnlyMemory<byte> Record, Cursor Cursor);
