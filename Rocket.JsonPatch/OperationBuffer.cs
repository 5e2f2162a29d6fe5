using System;
using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Rocket.JsonPatch;

/// <summary>
/// The operations of a patch being parsed: the first sixteen on the stack, only a longer patch spills into pooled arrays.
/// </summary>
internal ref struct OperationBuffer
{
    private InlineOperations _inline;
    private OperationData[]? _rented;
    private int _count;

    public readonly int Count => _count;

    [UnscopedRef]
    private Span<OperationData> Items => _rented is null ? _inline : _rented;

    public void Add(in OperationData operation)
    {
        if (_count == Items.Length)
        {
            var larger = ArrayPool<OperationData>.Shared.Rent(_count * 2);
            Items[.._count].CopyTo(larger);
            Dispose();
            _rented = larger;
        }

        Items[_count++] = operation;
    }

    public void Clear() => _count = 0;

    public OperationData[] ToArray() => Items[.._count].ToArray();

    public void Dispose()
    {
        if (_rented is not null)
        {
            ArrayPool<OperationData>.Shared.Return(_rented, clearArray: true);
            _rented = null;
        }
    }

    [InlineArray(16)]
    private struct InlineOperations
    {
        private OperationData _first;
    }
}
