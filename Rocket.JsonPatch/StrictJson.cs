using System;
using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;

namespace Rocket.JsonPatch;

/// <summary>
/// Checks that UTF-8 text is exactly one JSON value, with no comments, no trailing commas, no nesting deeper than
/// <see cref="MaxDepth"/> and no member name twice in one object: what <see cref="JsonDocument"/> accepts with
/// <see cref="JsonDocumentOptions.AllowDuplicateProperties"/> off and default options otherwise. It reads the text once
/// and builds no document (every record is checked, once per event, and the document was only thrown away): it allocates
/// nothing but the message of a refusal, and pooled arrays for escaped names or more than 32 names open at once.
/// </summary>
internal static class StrictJson
{
    /// <summary>
    /// The default of <see cref="JsonDocumentOptions.MaxDepth"/> and <see cref="JsonReaderOptions.MaxDepth"/>: 64
    /// nested objects or arrays are accepted, 65 are refused.
    /// </summary>
    public const int MaxDepth = 64;

    // Objects up to this many members are checked pairwise; larger ones are sorted by a hash of each name, so an object
    // of 10,000 members costs n log n comparisons, not n squared.
    private const int PairwiseLimit = 16;

    // The names of the objects still open are kept on the stack up to this many (records rarely have more), past it in a
    // pooled array.
    private const int InlineNames = 32;

    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        CommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = MaxDepth,
    };

    /// <summary>
    /// What makes <paramref name="utf8Json"/> other than one well-formed JSON value, as a clause that completes a
    /// sentence (the reader's own message for a syntax error); <see langword="null"/> when it is one.
    /// </summary>
    /// <remarks>
    /// Member names are compared unescaped, so <c>"a"</c> and <c>"\u0061"</c> are the same name. Like the reader, this
    /// does not check that the text is Unicode text: call <see cref="JsonElementChecks.IsUnicodeText"/> as well. An
    /// escaped name that is not Unicode text cannot be unescaped and is left out of the duplicate check (where
    /// <see cref="JsonDocument"/> threw <see cref="InvalidOperationException"/>), since that check refuses the text.
    /// </remarks>
    public static string? FindProblem(ReadOnlySpan<byte> utf8Json) => FindProblem(utf8Json, out _);

    /// <summary>
    /// As <see cref="FindProblem(ReadOnlySpan{byte})"/>, and how deeply the value nests (<c>1</c> is 0, <c>{"a":[]}</c> is
    /// 2), read in the same pass; meaningful only when there is no problem.
    /// </summary>
    public static string? FindProblem(ReadOnlySpan<byte> utf8Json, out int depth)
    {
        var reader = new Utf8JsonReader(utf8Json, ReaderOptions);
        depth = 0;

        // For each open object, by its depth: where its names start in the list and in the scratch buffer. The reader
        // refuses an object deeper than MaxDepth before it is recorded here.
        Span<int> firstName = stackalloc int[MaxDepth];
        Span<int> firstScratch = stackalloc int[MaxDepth];
        var names = new NameList(stackalloc Name[InlineNames]);
        string? duplicate = null;
        try
        {
            while (reader.Read())
            {
                // After a duplicate only the syntax is left to check: a syntax error anywhere is reported first, as
                // JsonDocument reports it (it looks for duplicates once the whole text is read).
                if (duplicate is not null)
                {
                    continue;
                }

                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        firstName[reader.CurrentDepth] = names.Count;
                        firstScratch[reader.CurrentDepth] = names.ScratchUsed;
                        depth = Math.Max(depth, reader.CurrentDepth + 1);
                        break;
                    case JsonTokenType.StartArray:
                        depth = Math.Max(depth, reader.CurrentDepth + 1);
                        break;
                    case JsonTokenType.PropertyName:
                        if (!reader.ValueIsEscaped)
                        {
                            // The reader was given one span, so the name is a slice of it, just after the opening quote.
                            names.Add((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length);
                        }
                        else if (TryUnescape(ref reader, names.GetScratch(reader.ValueSpan.Length), out var length))
                        {
                            names.AddFromScratch(length);
                        }

                        break;
                    case JsonTokenType.EndObject:
                        var closing = reader.CurrentDepth;
                        duplicate = names.FindDuplicate(firstName[closing], utf8Json);
                        names.Truncate(firstName[closing], firstScratch[closing]);
                        break;
                }
            }
        }
        catch (JsonException e)
        {
            return e.Message;
        }
        finally
        {
            names.Dispose();
        }

        return duplicate is null ? null : $"it has the member name '{duplicate}' twice in one object";
    }

    // Unescapes the name the reader is on; false when it is not Unicode text (an escaped unpaired surrogate, bytes that
    // are not UTF-8), which has no unescaped form to compare and which the caller's IsUnicodeText refuses.
    private static bool TryUnescape(ref Utf8JsonReader reader, scoped Span<byte> destination, out int length)
    {
        try
        {
            length = reader.CopyString(destination);
            return true;
        }
        catch (InvalidOperationException)
        {
            length = 0;
            return false;
        }
    }

    /// <summary>
    /// A member name's unescaped UTF-8 text: a slice of the input when the name has no escape, else of the scratch
    /// buffer it was unescaped into.
    /// </summary>
    private struct Name
    {
        public int Start;
        public int Length;
        public bool InScratch;

        // Where the name came in the list, kept through the sort so the first duplicate reported is the same every run.
        public int Position;
        public int Hash;
    }

    /// <summary>The names of the objects still open, outer objects first, each object's names in document order.</summary>
    private ref struct NameList
    {
        private Span<Name> _names;
        private Name[]? _rentedNames;
        private byte[]? _scratch;

        public NameList(Span<Name> inline) => _names = inline;

        public int Count { get; private set; }

        public int ScratchUsed { get; private set; }

        public void Add(int start, int length) => Add(new Name { Start = start, Length = length });

        /// <summary>Room for the unescaped text of the current name, at least <paramref name="length"/> bytes.</summary>
        public Span<byte> GetScratch(int length)
        {
            EnsureScratch(length);
            return _scratch.AsSpan(ScratchUsed);
        }

        /// <summary>Adds the name just unescaped into <see cref="GetScratch"/>.</summary>
        public void AddFromScratch(int length)
        {
            Add(new Name { Start = ScratchUsed, Length = length, InScratch = true });
            ScratchUsed += length;
        }

        /// <summary>The text of a name found twice among the names from <paramref name="first"/> on, or null.</summary>
        public readonly string? FindDuplicate(int first, ReadOnlySpan<byte> utf8Json)
        {
            var names = _names[first..Count];
            var found = names.Length <= PairwiseLimit ? FindPairwise(names, utf8Json) : FindByHash(names, utf8Json);
            return found < 0 ? null : Encoding.UTF8.GetString(Text(names[found], utf8Json));
        }

        public void Truncate(int count, int scratchUsed)
        {
            Count = count;
            ScratchUsed = scratchUsed;
        }

        public void Dispose()
        {
            ReturnNames();
            if (_scratch is not null)
            {
                ArrayPool<byte>.Shared.Return(_scratch, clearArray: true); // unescaped member names are user data
                _scratch = null;
            }
        }

        // The index of the first name with an equal name before it, or -1.
        private readonly int FindPairwise(ReadOnlySpan<Name> names, ReadOnlySpan<byte> utf8Json)
        {
            for (var i = 1; i < names.Length; i++)
            {
                var text = Text(names[i], utf8Json);
                for (var j = 0; j < i; j++)
                {
                    if (Text(names[j], utf8Json).SequenceEqual(text))
                    {
                        return i;
                    }
                }
            }

            return -1;
        }

        // Sorts the names by hash, then compares only names with equal hashes. Reorders the names: they belong to an
        // object that is closing. Returns the index, after the sort, of the name FindPairwise would have found.
        private readonly int FindByHash(Span<Name> names, ReadOnlySpan<byte> utf8Json)
        {
            foreach (ref var name in names)
            {
                var hash = default(HashCode);
                hash.AddBytes(Text(name, utf8Json));
                name.Hash = hash.ToHashCode();
            }

            // A static lambda is one cached delegate; a struct IComparer would be boxed into a new delegate per sort.
            names.Sort(static (x, y) => x.Hash != y.Hash ? x.Hash.CompareTo(y.Hash) : x.Position.CompareTo(y.Position));
            var found = -1;
            for (var start = 0; start < names.Length;)
            {
                var end = start + 1;
                while (end < names.Length && names[end].Hash == names[start].Hash)
                {
                    end++;
                }

                // Within a run the names are in document order, so the run's first name with an equal one before it
                // is the one to compare with what other runs found.
                var inRun = FindPairwise(names[start..end], utf8Json);
                if (inRun >= 0 && (found < 0 || names[start + inRun].Position < names[found].Position))
                {
                    found = start + inRun;
                }

                start = end;
            }

            return found;
        }

        private void Add(Name name)
        {
            if (Count == _names.Length)
            {
                var larger = ArrayPool<Name>.Shared.Rent(Count * 2);
                _names.CopyTo(larger);
                ReturnNames();
                _rentedNames = larger;
                _names = larger;
            }

            name.Position = Count;
            _names[Count++] = name;
        }

        private readonly ReadOnlySpan<byte> Text(Name name, ReadOnlySpan<byte> utf8Json) =>
            name.InScratch ? _scratch.AsSpan(name.Start, name.Length) : utf8Json.Slice(name.Start, name.Length);

        [MemberNotNull(nameof(_scratch))]
        private void EnsureScratch(int needed)
        {
            if (_scratch is not null && _scratch.Length - ScratchUsed >= needed)
            {
                return;
            }

            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(256, (ScratchUsed + needed) * 2));
            if (_scratch is not null)
            {
                _scratch.AsSpan(0, ScratchUsed).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(_scratch, clearArray: true); // unescaped member names are user data
            }

            _scratch = larger;
        }

        private void ReturnNames()
        {
            if (_rentedNames is not null)
            {
                ArrayPool<Name>.Shared.Return(_rentedNames);
                _rentedNames = null;
            }
        }
    }
}
