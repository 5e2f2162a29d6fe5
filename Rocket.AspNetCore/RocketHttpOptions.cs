using System;

namespace Rocket.AspNetCore;

/// <summary>Limits and behaviour of Rocket's HTTP endpoints. Configure with <c>services.Configure&lt;RocketHttpOptions&gt;(...)</c>.</summary>
public sealed class RocketHttpOptions
{
    /// <summary>
    /// The largest request body accepted, in bytes; a larger one gets 413. Default 1 MiB: a record is a document an app
    /// shows, not a file upload, and the limit bounds the memory one request can take.
    /// </summary>
    public long MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>The deepest nesting accepted in a body; deeper gets 400. Default 64, System.Text.Json's own default.</summary>
    public int MaxDepth { get; set; } = 64;

    /// <summary>
    /// The most operations one <c>PATCH</c> may carry; more gets 400. Default 1,000: an edit of one record needs a
    /// handful, and the limit bounds the work (and the undo log) of one request.
    /// </summary>
    public int MaxPatchOperations { get; set; } = 1000;
}
