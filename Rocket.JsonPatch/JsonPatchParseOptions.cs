using System;

namespace Rocket.JsonPatch;

/// <summary>Limits enforced while a JSON Patch document is parsed.</summary>
public sealed class JsonPatchParseOptions
{
    private int _maxDepth = 64;
    private int _maxOperations = 10_000;

    /// <summary>The options used when none are given: depth 64, 10,000 operations.</summary>
    public static JsonPatchParseOptions Default { get; } = new();

    /// <summary>
    /// The deepest nesting allowed, counting the patch array and the operation object as two levels.
    /// Default 64, System.Text.Json's own default: deep enough for real records, shallow enough that a hostile
    /// body cannot exhaust the stack.
    /// </summary>
    public int MaxDepth
    {
        get => _maxDepth;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 2);
            _maxDepth = value;
        }
    }

    /// <summary>
    /// The most operations one patch may hold. Default 10,000: far above what an edit needs, and it bounds the work
    /// (and the undo log) one request can cause.
    /// </summary>
    public int MaxOperations
    {
        get => _maxOperations;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _maxOperations = value;
        }
    }
}
