using System;

namespace Rocket.JsonPatch;

/// <summary>
/// Budgets enforced while a JSON Patch is applied, so that a small patch cannot build a huge or deeply nested document:
/// <c>copy</c> duplicates values, and a few dozen copies of the root double a document past any memory.
/// </summary>
/// <remarks>
/// The checks run as each operation is applied, before the work that would exceed them: a pointer deeper than
/// <see cref="MaxDepth"/> is refused before it is walked, a value is measured before it is copied, and the measuring
/// itself stops at the budget. A refused patch leaves the document exactly as it was.
/// </remarks>
public sealed class JsonPatchApplyOptions
{
    private int _maxDepth = 64;
    private long _maxBytes = long.MaxValue;

    /// <summary>The options used when none are given: depth 64, no size limit.</summary>
    public static JsonPatchApplyOptions Default { get; } = new();

    /// <summary>
    /// The deepest nesting of objects and arrays the result may have (<c>{"a":[1]}</c> has depth 2), and so the most
    /// tokens a <c>path</c> or <c>from</c> may have. Default 64, System.Text.Json's own reading limit: a document read
    /// with default options is never deeper, and a pointer walk costs at most that many steps.
    /// </summary>
    public int MaxDepth
    {
        get => _maxDepth;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _maxDepth = value;
        }
    }

    /// <summary>
    /// The largest result, in bytes of compact UTF-8 JSON, and the most a patch's <c>copy</c> operations may duplicate
    /// in total. Default <see cref="long.MaxValue"/> (no limit); a server holding records sets its record size here.
    /// </summary>
    /// <remarks>
    /// Values added by <c>add</c> and <c>replace</c> come from the patch itself and are bounded by its size. Only
    /// <c>copy</c> can make a document grow faster than the patch does, so each copied value is measured first (the
    /// measure stops once it passes what is left of this budget). The result's exact size is checked when it is written.
    /// </remarks>
    public long MaxBytes
    {
        get => _maxBytes;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _maxBytes = value;
        }
    }
}
