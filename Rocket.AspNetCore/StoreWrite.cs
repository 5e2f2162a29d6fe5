using System;
using Rocket.Live;

namespace Rocket.AspNetCore;

/// <summary>What an <see cref="ICollectionStore"/> did with a change: committed it (with the record as stored) or refused it.</summary>
public readonly struct StoreWrite
{
    private StoreWrite(ReadOnlyMemory<byte> record, ChangeRefusal? refusal, string? message)
    {
        Record = record;
        Refusal = refusal;
        Message = message;
    }

    /// <summary>The record as committed (empty for a destroy); meaningful when <see cref="Refusal"/> is <see langword="null"/>.</summary>
    public ReadOnlyMemory<byte> Record { get; }

    /// <summary>Why the store refused the change; <see langword="null"/> when it committed it.</summary>
    public ChangeRefusal? Refusal { get; }

    /// <summary>The refusal's explanation for the client, or <see langword="null"/>.</summary>
    public string? Message { get; }

    /// <summary>The change was committed; <paramref name="record"/> is the record as stored (empty for a destroy).</summary>
    public static StoreWrite Committed(ReadOnlyMemory<byte> record) => new(record, null, null);

    /// <summary>The change was refused (HTTP as for <see cref="ChangeRefusal"/>: 404, 409, 412...); nothing was stored.</summary>
    public static StoreWrite Refused(ChangeRefusal refusal, string message)
    {
        ArgumentException.ThrowIfNullOrEmpty(message);
        return new(default, refusal, message);
    }
}
