using System;
using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Rocket.JsonPatch;

/// <summary>
/// Applies operations to a <see cref="JsonNode"/> tree in place, keeping an undo log so that a failure restores the
/// tree exactly (same node instances, same member order) before the exception leaves.
/// </summary>
internal static class JsonPatchApplier
{
    public static JsonNode? Apply(ReadOnlySpan<OperationData> operations, JsonNode? document, JsonPatchApplyOptions options)
    {
        var undo = new UndoLog();
        var parents = default(ParentChain);
        var budget = new Budget(options);
        var root = document;
        var index = 0;
        try
        {
            for (; index < operations.Length; index++)
            {
                root = ApplyOne(in operations[index], index, root, ref undo, ref parents, ref budget);
            }

            return root;
        }
        catch (JsonPatchException)
        {
            undo.Rollback();
            throw;
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // System.Text.Json.Nodes refuses some trees (for example a cycle) with these; the caller only ever sees
            // JsonPatchException, and only after the document is restored.
            undo.Rollback();
            throw new JsonPatchException(JsonPatchError.InvalidTarget, index, $"Operation {index} cannot be applied: {e.Message}", e);
        }
        finally
        {
            undo.Dispose();
        }
    }

    private static JsonNode? ApplyOne(in OperationData operation, int index, JsonNode? root, ref UndoLog undo, ref ParentChain parents, ref Budget budget)
    {
        // Every walk below is at most this long: a pointer deeper than the budget could only reach into, or build, a
        // document deeper than it.
        var depth = operation.Path.SegmentSpan.Length;
        if (depth > budget.MaxDepth || (operation.HasFrom && operation.From.SegmentSpan.Length > budget.MaxDepth))
        {
            Fail(JsonPatchError.DocumentTooDeep, operation, index, $"the pointer has more tokens than the depth limit, {budget.MaxDepth}");
        }

        switch (operation.Op)
        {
            case JsonPatchOperationType.Add:
                return Add(root, operation.Path, CreateValue(operation, index, depth, in budget), operation, index, ref undo, ref parents);

            case JsonPatchOperationType.Remove:
                if (operation.Path.IsRoot)
                {
                    Fail(JsonPatchError.InvalidTarget, operation, index, "the whole document cannot be removed; replace it instead");
                }

                Remove(root, operation.Path, operation, index, ref undo, ref parents);
                return root;

            case JsonPatchOperationType.Replace:
                return Replace(root, operation.Path, CreateValue(operation, index, depth, in budget), operation, index, ref undo, ref parents);

            case JsonPatchOperationType.Move:
                if (operation.From == operation.Path)
                {
                    // RFC 6902 section 4.4: the source must exist; moving a value onto itself changes nothing.
                    _ = Get(root, operation.From, operation, index, "from", ref parents);
                    return root;
                }

                if (operation.From.IsProperPrefixOf(operation.Path))
                {
                    Fail(JsonPatchError.InvalidTarget, operation, index, "a value cannot be moved into one of its own children");
                }

                var moved = Remove(root, operation.From, operation, index, ref undo, ref parents, "from");
                if (depth > operation.From.SegmentSpan.Length && !Measure(moved, budget.MaxDepth - depth, long.MaxValue, out _))
                {
                    // Only a move to a deeper place can deepen the document; the value is walked, not copied.
                    Fail(JsonPatchError.DocumentTooDeep, operation, index, $"the value would nest deeper than the depth limit, {budget.MaxDepth}");
                }

                return Add(root, operation.Path, moved, operation, index, ref undo, ref parents);

            case JsonPatchOperationType.Copy:
                var source = Get(root, operation.From, operation, index, "from", ref parents);
                if (!Measure(source, budget.MaxDepth - depth, budget.CopyBytesLeft, out var size))
                {
                    Fail(size > budget.CopyBytesLeft ? JsonPatchError.DocumentTooLarge : JsonPatchError.DocumentTooDeep, operation, index, size > budget.CopyBytesLeft
                        ? $"the patch's copies would duplicate more than the size limit, {budget.MaxBytes} bytes"
                        : $"the value would nest deeper than the depth limit, {budget.MaxDepth}");
                }

                budget.CopyBytesLeft -= size;
                return Add(root, operation.Path, source?.DeepClone(), operation, index, ref undo, ref parents);

            case JsonPatchOperationType.Test:
                var actual = Get(root, operation.Path, operation, index, "path", ref parents);
                if (!operation.Value.EqualsNode(actual))
                {
                    Fail(JsonPatchError.TestFailed, operation, index, "the value at the path is not equal to the expected value");
                }

                return root;

            default:
                throw new ArgumentOutOfRangeException(nameof(operation));
        }
    }

    private static JsonNode? Add(JsonNode? root, JsonPointer path, JsonNode? value, in OperationData operation, int index, ref UndoLog undo, ref ParentChain parents)
    {
        if (path.IsRoot)
        {
            undo.Push(new UndoEntry(UndoKind.SetRoot, null, 0, null, root));
            return value;
        }

        var container = GetParent(root, path, operation, index, "path", ref parents);
        var name = path.LastSegment;
        if (container is JsonObject obj)
        {
            // One lookup whether the member is new or not; an existing one is overwritten in place.
            if (obj.TryAdd(name, value, out var at))
            {
                undo.Push(new UndoEntry(UndoKind.ObjectRemove, obj, 0, name, null));
            }
            else
            {
                SetMember(obj, at, value, ref undo);
            }

            return root;
        }

        var array = (JsonArray)container;
        int position;
        if (name == "-")
        {
            position = array.Count;
        }
        else if (!JsonPointer.TryParseArrayIndex(name, out position))
        {
            Fail(JsonPatchError.InvalidTarget, operation, index, $"'{name}' is not an array index (digits, no leading zeros) nor '-'");
        }
        else if (position > array.Count)
        {
            Fail(JsonPatchError.InvalidTarget, operation, index, $"index {position} is past the end of an array of {array.Count}");
        }

        array.Insert(position, value);
        undo.Push(new UndoEntry(UndoKind.ArrayRemoveAt, array, position, null, null));
        return root;
    }

    private static JsonNode? Remove(JsonNode? root, JsonPointer path, in OperationData operation, int index, ref UndoLog undo, ref ParentChain parents, string member = "path")
    {
        var container = GetParent(root, path, operation, index, member, ref parents);
        var name = path.LastSegment;
        if (container is JsonObject obj)
        {
            var at = obj.IndexOf(name);
            if (at < 0)
            {
                Fail(JsonPatchError.PathNotFound, operation, index, $"the {member} does not exist");
            }

            var old = obj.GetAt(at).Value;
            obj.RemoveAt(at);
            undo.Push(new UndoEntry(UndoKind.ObjectInsert, obj, at, name, old));
            return old;
        }

        var array = (JsonArray)container;
        var position = ArrayIndex(array, name, operation, index, member);
        var removed = array[position];
        array.RemoveAt(position);
        undo.Push(new UndoEntry(UndoKind.ArrayInsert, array, position, null, removed));
        return removed;
    }

    private static JsonNode? Replace(JsonNode? root, JsonPointer path, JsonNode? value, in OperationData operation, int index, ref UndoLog undo, ref ParentChain parents)
    {
        if (path.IsRoot)
        {
            undo.Push(new UndoEntry(UndoKind.SetRoot, null, 0, null, root));
            return value;
        }

        var container = GetParent(root, path, operation, index, "path", ref parents);
        var name = path.LastSegment;
        if (container is JsonObject obj)
        {
            var at = obj.IndexOf(name);
            if (at < 0)
            {
                Fail(JsonPatchError.PathNotFound, operation, index, "the path does not exist");
            }

            SetMember(obj, at, value, ref undo);
            return root;
        }

        var array = (JsonArray)container;
        var position = ArrayIndex(array, name, operation, index, "path");
        var previous = array[position];
        array[position] = value;
        undo.Push(new UndoEntry(UndoKind.ArraySet, array, position, null, previous));
        return root;
    }

    // Overwrites an existing member in place (same position), remembering the old value for a rollback.
    private static void SetMember(JsonObject obj, int at, JsonNode? value, ref UndoLog undo)
    {
        var old = obj.GetAt(at).Value;
        obj.SetAt(at, value);
        undo.Push(new UndoEntry(UndoKind.ObjectSetAt, obj, at, null, old));
    }

    private static JsonNode? Get(JsonNode? root, JsonPointer path, in OperationData operation, int index, string member, ref ParentChain parents)
    {
        if (path.IsRoot)
        {
            return root;
        }

        var container = GetParent(root, path, operation, index, member, ref parents);
        var name = path.LastSegment;
        if (container is JsonObject obj)
        {
            if (!obj.TryGetPropertyValue(name, out var value))
            {
                Fail(JsonPatchError.PathNotFound, operation, index, $"the {member} does not exist");
            }

            return value;
        }

        var array = (JsonArray)container;
        return array[ArrayIndex(array, name, operation, index, member)];
    }

    /// <summary>
    /// Walks every token but the last; the result is the object or array that holds the target. The walk starts where
    /// this path parts from the one walked last (<see cref="ParentChain"/>), not at the root.
    /// </summary>
    private static JsonNode GetParent(JsonNode? root, JsonPointer path, in OperationData operation, int index, string member, ref ParentChain parents)
    {
        var segments = path.SegmentSpan;
        var i = parents.Resume(root, path, out var current);
        for (; i < segments.Length - 1; i++)
        {
            switch (current)
            {
                case JsonObject obj:
                    if (!obj.TryGetPropertyValue(segments[i], out current))
                    {
                        Fail(JsonPatchError.PathNotFound, operation, index, $"the {member} does not exist");
                    }

                    break;
                case JsonArray array:
                    current = array[ArrayIndex(array, segments[i], operation, index, member)];
                    break;
                default:
                    Fail(JsonPatchError.PathNotFound, operation, index, $"the {member} does not exist");
                    break;
            }

            parents.Extend(i + 1, current);
        }

        if (current is not (JsonObject or JsonArray))
        {
            Fail(JsonPatchError.PathNotFound, operation, index, $"the {member} does not exist (its parent is not an object or an array)");
        }

        return current;
    }

    /// <summary>An existing element's index: digits only, no leading zeros, below the count; <c>-</c> is refused here.</summary>
    private static int ArrayIndex(JsonArray array, string token, in OperationData operation, int index, string member)
    {
        if (!JsonPointer.TryParseArrayIndex(token, out var position))
        {
            Fail(JsonPatchError.InvalidTarget, operation, index, $"the {member} uses '{token}' on an array, which is not an index of an existing element");
        }

        if (position >= array.Count)
        {
            Fail(JsonPatchError.PathNotFound, operation, index, $"the {member} has index {position}, past the end of an array of {array.Count}");
        }

        return position;
    }

    // The operation's value as a new node, refused when placing it at `depth` tokens would nest deeper than the budget.
    // Its size needs no check: it came with the patch, which the caller bounded.
    private static JsonNode? CreateValue(in OperationData operation, int index, int depth, in Budget budget)
    {
        var value = operation.Value.CreateNode();
        if (value is JsonObject or JsonArray && !Measure(value, budget.MaxDepth - depth, long.MaxValue, out _))
        {
            Fail(JsonPatchError.DocumentTooDeep, operation, index, $"the value would nest deeper than the depth limit, {budget.MaxDepth}");
        }

        return value;
    }

    /// <summary>
    /// Walks <paramref name="node"/> for its size as compact JSON (an estimate that errs low: numbers and literals count
    /// as their raw text where the node holds it, else 4 bytes, and strings without their escapes) and whether it nests
    /// at most <paramref name="maxDepth"/> levels. Stops, returning false, as soon as either is exceeded, so the walk
    /// costs at most the budget it checks.
    /// </summary>
    private static bool Measure(JsonNode? node, int maxDepth, long maxBytes, out long bytes)
    {
        bytes = 0;
        return Walk(node, maxDepth, maxBytes, ref bytes);
    }

    private static bool Walk(JsonNode? node, int maxDepth, long maxBytes, ref long bytes)
    {
        switch (node)
        {
            case JsonObject obj:
                if (maxDepth < 1)
                {
                    return false;
                }

                bytes += 2;
                foreach (var (name, value) in obj)
                {
                    // "name": and a comma.
                    bytes += name.Length + 4;
                    if (bytes > maxBytes || !Walk(value, maxDepth - 1, maxBytes, ref bytes))
                    {
                        return false;
                    }
                }

                break;
            case JsonArray array:
                if (maxDepth < 1)
                {
                    return false;
                }

                bytes += 2;
                foreach (var item in array)
                {
                    bytes++;
                    if (bytes > maxBytes || !Walk(item, maxDepth - 1, maxBytes, ref bytes))
                    {
                        return false;
                    }
                }

                break;
            case JsonValue value when value.TryGetValue<JsonElement>(out var element):
                bytes += JsonMarshal.GetRawUtf8Value(element).Length;
                break;
            case JsonValue value when value.TryGetValue<string>(out var text):
                bytes += text.Length + 2;
                break;
            default:
                bytes += 4;
                break;
        }

        return bytes <= maxBytes;
    }

    [DoesNotReturn]
    private static void Fail(JsonPatchError error, in OperationData operation, int index, string reason)
    {
        var target = operation.HasFrom ? $"{operation.From} to {operation.Path}" : operation.Path.ToString();
        ThrowHelper.ThrowPatch(error, index, $"Operation {index} ({JsonPatchOperation.GetName(operation.Op)} \"{target}\") failed: {reason}.");
    }

    /// <summary>What is left of the apply's budgets.</summary>
    private struct Budget(JsonPatchApplyOptions options)
    {
        public readonly int MaxDepth = options.MaxDepth;

        public readonly long MaxBytes = options.MaxBytes;

        public long CopyBytesLeft = options.MaxBytes;
    }

    private enum UndoKind : byte
    {
        SetRoot,
        ObjectRemove,
        ObjectInsert,
        ObjectSetAt,
        ArrayRemoveAt,
        ArrayInsert,
        ArraySet,
    }

    private readonly record struct UndoEntry(UndoKind Kind, JsonNode? Container, int Index, string? Key, JsonNode? Node);

    /// <summary>
    /// The inverse of every change made so far: the first eight on the stack (most patches are short), the rest in a
    /// pooled array.
    /// </summary>
    private struct UndoLog : IDisposable
    {
        private const int InlineCount = 8;

        private InlineEntries _inline;
        private UndoEntry[]? _entries;
        private int _count;

        public void Push(UndoEntry entry)
        {
            if (_entries is null)
            {
                if (_count < InlineCount)
                {
                    _inline[_count++] = entry;
                    return;
                }

                _entries = ArrayPool<UndoEntry>.Shared.Rent(InlineCount * 2);
                ((ReadOnlySpan<UndoEntry>)_inline).CopyTo(_entries);
            }
            else if (_count == _entries.Length)
            {
                var larger = ArrayPool<UndoEntry>.Shared.Rent(_count * 2);
                _entries.AsSpan(0, _count).CopyTo(larger);
                ArrayPool<UndoEntry>.Shared.Return(_entries, clearArray: true);
                _entries = larger;
            }

            _entries[_count++] = entry;
        }

        public readonly void Rollback()
        {
            ReadOnlySpan<UndoEntry> entries = _entries is null ? _inline : _entries;
            for (var i = _count - 1; i >= 0; i--)
            {
                var entry = entries[i];
                switch (entry.Kind)
                {
                    case UndoKind.SetRoot:
                        // The root is a local of the apply; the caller still holds its own document.
                        break;
                    case UndoKind.ObjectRemove:
                        ((JsonObject)entry.Container!).Remove(entry.Key!);
                        break;
                    case UndoKind.ObjectInsert:
                        ((JsonObject)entry.Container!).Insert(entry.Index, entry.Key!, entry.Node);
                        break;
                    case UndoKind.ObjectSetAt:
                        ((JsonObject)entry.Container!).SetAt(entry.Index, entry.Node);
                        break;
                    case UndoKind.ArrayRemoveAt:
                        ((JsonArray)entry.Container!).RemoveAt(entry.Index);
                        break;
                    case UndoKind.ArrayInsert:
                        ((JsonArray)entry.Container!).Insert(entry.Index, entry.Node);
                        break;
                    case UndoKind.ArraySet:
                        ((JsonArray)entry.Container!)[entry.Index] = entry.Node;
                        break;
                }
            }
        }

        public void Dispose()
        {
            if (_entries is not null)
            {
                ArrayPool<UndoEntry>.Shared.Return(_entries, clearArray: true);
                _entries = null;
            }
        }
    }

    /// <summary>
    /// The containers on the way to the parent found last: <c>_nodes[k]</c> is the one reached after the first <c>k</c>
    /// tokens of <c>_path</c> (<c>_nodes[0]</c> the root). Patches mostly edit one record, so the next operation's
    /// path shares a prefix with the last (<c>/messages/123/text</c> after <c>/messages/123/author</c>) and its walk
    /// starts where they part, saving a lookup per shared token.
    /// </summary>
    /// <remarks>
    /// A walk stays true because every change an operation makes is to the children of the container it has just walked
    /// to (a member or element added, replaced or removed, the elements after it shifted), never to that container or
    /// those above it, which are all the chain holds; and a new root (path <c>""</c>) no longer matches <c>_nodes[0]</c>.
    /// </remarks>
    private struct ParentChain
    {
        private InlineNodes _nodes;
        private JsonPointer _path;
        private int _count;

        /// <summary>How many of <paramref name="path"/>'s tokens are already walked, and the container they lead to.</summary>
        public int Resume(JsonNode? root, JsonPointer path, out JsonNode? current)
        {
            var walked = 0;
            if (_count > 0 && ReferenceEquals(_nodes[0], root))
            {
                var previous = _path.SegmentSpan;
                var segments = path.SegmentSpan;
                var limit = Math.Min(_count - 1, segments.Length - 1);
                while (walked < limit && string.Equals(previous[walked], segments[walked], StringComparison.Ordinal))
                {
                    walked++;
                }
            }
            else
            {
                _nodes[0] = root;
            }

            _path = path;
            _count = walked + 1;
            current = _nodes[walked];
            return walked;
        }

        /// <summary>Records the node reached after <paramref name="walked"/> tokens of the path given to <see cref="Resume"/>.</summary>
        public void Extend(int walked, JsonNode? node)
        {
            if (walked == _count && walked < InlineNodes.Length)
            {
                _nodes[walked] = node;
                _count++;
            }
        }
    }

    [InlineArray(Length)]
    private struct InlineNodes
    {
        public const int Length = 8;

        private JsonNode? _first;
    }

    [InlineArray(8)]
    private struct InlineEntries
    {
        private UndoEntry _first;
    }
}
