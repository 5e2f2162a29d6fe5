using System;

namespace Rocket.AspNetCore;

/// <summary>Limits and behaviour of Rocket's HTTP endpoints. Configure with <c>services.Configure&lt;RocketHttpOptions&gt;(...)</c>.</summary>
public sealed class RocketHttpOptions
{
    private long _maxBodyBytes = 1024 * 1024;
    private int _maxDepth = 64;
    private int _maxPatchOperations = 1000;

    /// <summary>
    /// The largest request body accepted, in bytes; a larger one gets 413. Default 1 MiB: a record is a document an app
    /// shows, not a file upload, and the limit bounds the memory one request can take.
    /// </summary>
    public long MaxBodyBytes
    {
        get => _maxBodyBytes;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _maxBodyBytes = value;
        }
    }

    /// <summary>The deepest nesting accepted in a body; deeper gets 400. Default 64, System.Text.Json's own default.</summary>
    public int MaxDepth
    {
        get => _maxDepth;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 2);
            _maxDepth = value;
        }
    }

    /// <summary>
    /// The most operations one <c>PATCH</c> may carry; more gets 400. Default 1,000: an edit of one record needs a
    /// handful, and the limit bounds the work (and the undo log) of one request.
    /// </summary>
    public int MaxPatchOperations
    {
        get => _maxPatchOperations;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _maxPatchOperations = value;
        }
    }
}
