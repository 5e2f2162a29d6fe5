using System;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Rocket.JsonPatch;

namespace Rocket.Live;

/// <summary>
/// One change to one record: create, update (the whole new value) or destroy. Values are UTF-8 JSON, checked and
/// copied when the change is built, so a change is immutable and every subscriber is sent exactly what was checked.
/// </summary>
public sealed class RecordChange
{
    private readonly byte[] _value;

    private readonly byte[]? _expected;

    private RecordChange(RecordChangeKind kind, string id, byte[] value, int depth = 0, byte[]? expected = null)
    {
        Kind = kind;
        Id = id;
        _value = value;
        Depth = depth;
        _expected = expected;
    }

    /// <summary>What the change does.</summary>
    public RecordChangeKind Kind { get; }

    /// <summary>The record's id, as it appears (RFC 6901-escaped) in the event's path <c>/&lt;collection&gt;/&lt;id&gt;</c>.</summary>
    public string Id { get; }

    /// <summary>The new value as UTF-8 JSON; empty for <see cref="RecordChangeKind.Destroy"/>.</summary>
    public ReadOnlyMemory<byte> Value => _value;

    internal byte[] ValueArray => _value;

    /// <summary>
    /// For a conditional update or destroy, the record as the writer read it: the change applies only if the record is
    /// still, byte for byte, this value (an HTTP <c>If-Match</c>, or a patch's compare-and-swap); else the change set is
    /// refused with <see cref="ChangeRefusal.PreconditionFailed"/>. <see langword="null"/> when unconditional.
    /// </summary>
    public ReadOnlyMemory<byte>? Expected
    {
        get
        {
            // Spelled out: a null array converts to an empty (not a null) ReadOnlyMemory, so `?:` with null would never be null.
            if (_expected is null)
            {
                return null;
            }

            return _expected;
        }
    }

    internal byte[]? ExpectedArray => _expected;

    // How deeply the value nests (0 for a scalar), read when it was checked; a collection refuses records deeper than its limit.
    internal int Depth { get; }

    /// <summary>A create of record <paramref name="id"/> with the value <paramref name="utf8Json"/>.</summary>
    /// <exception cref="ChangeRefusedException">The id is empty or has an unpaired surrogate, or the value is not one well-formed JSON value.</exception>
    public static RecordChange Create(string id, ReadOnlySpan<byte> utf8Json) => Checked(RecordChangeKind.Create, CheckId(id), utf8Json);

    /// <summary>A create of record <paramref name="id"/> with the value <paramref name="json"/>.</summary>
    /// <exception cref="ChangeRefusedException">The id is empty or has an unpaired surrogate, or the value is not one well-formed JSON value.</exception>
    public static RecordChange Create(string id, string json) => Create(id, ToUtf8(json));

    /// <summary>An update of record <paramref name="id"/> to the value <paramref name="utf8Json"/>.</summary>
    /// <exception cref="ChangeRefusedException">The id is empty or has an unpaired surrogate, or the value is not one well-formed JSON value.</exception>
    public static RecordChange Update(string id, ReadOnlySpan<byte> utf8Json) => Checked(RecordChangeKind.Update, CheckId(id), utf8Json);

    /// <summary>An update of record <paramref name="id"/> to the value <paramref name="json"/>.</summary>
    /// <exception cref="ChangeRefusedException">The id is empty or has an unpaired surrogate, or the value is not one well-formed JSON value.</exception>
    public static RecordChange Update(string id, string json) => Update(id, ToUtf8(json));

    /// <summary>
    /// A create of record <paramref name="id"/> with <paramref name="value"/> serialized by System.Text.Json with the
    /// app's <paramref name="options"/> (its naming policy, converters); see <see cref="Create(string, ReadOnlySpan{byte})"/>.
    /// </summary>
    /// <exception cref="ChangeRefusedException">The id is empty, or the value is not one well-formed JSON value.</exception>
    [RequiresUnreferencedCode("Serializing an arbitrary type may need code the trimmer removed; use the JsonTypeInfo overload.")]
    [RequiresDynamicCode("Serializing an arbitrary type may need runtime code generation; use the JsonTypeInfo overload.")]
    public static RecordChange Create<T>(string id, T value, JsonSerializerOptions? options) =>
        Create(id, JsonSerializer.SerializeToUtf8Bytes(value, options));

    /// <summary>A create of record <paramref name="id"/> with <paramref name="value"/>, serialized through <paramref name="typeInfo"/> (source-generated, trim-safe).</summary>
    /// <exception cref="ChangeRefusedException">The id is empty, or the value is not one well-formed JSON value.</exception>
    public static RecordChange Create<T>(string id, T value, JsonTypeInfo<T> typeInfo) =>
        Create(id, JsonSerializer.SerializeToUtf8Bytes(value, typeInfo));

    /// <summary>An update of record <paramref name="id"/> to <paramref name="value"/> serialized with the app's <paramref name="options"/>.</summary>
    /// <exception cref="ChangeRefusedException">The id is empty, or the value is not one well-formed JSON value.</exception>
    [RequiresUnreferencedCode("Serializing an arbitrary type may need code the trimmer removed; use the JsonTypeInfo overload.")]
    [RequiresDynamicCode("Serializing an arbitrary type may need runtime code generation; use the JsonTypeInfo overload.")]
    public static RecordChange Update<T>(string id, T value, JsonSerializerOptions? options) =>
        Update(id, JsonSerializer.SerializeToUtf8Bytes(value, options));

    /// <summary>An update of record <paramref name="id"/> to <paramref name="value"/>, serialized through <paramref name="typeInfo"/>.</summary>
    /// <exception cref="ChangeRefusedException">The id is empty, or the value is not one well-formed JSON value.</exception>
    public static RecordChange Update<T>(string id, T value, JsonTypeInfo<T> typeInfo) =>
        Update(id, JsonSerializer.SerializeToUtf8Bytes(value, typeInfo));

    /// <summary>A destroy of record <paramref name="id"/>.</summary>
    /// <exception cref="ChangeRefusedException">The id is empty or has an unpaired surrogate.</exception>
    public static RecordChange Destroy(string id) => new(RecordChangeKind.Destroy, CheckId(id), []);

    /// <summary>
    /// This update or destroy, made conditional: it applies only if the record is still <paramref name="expected"/>
    /// (compared byte for byte, with the record as it was before the change set).
    /// </summary>
    /// <exception cref="InvalidOperationException">This is a create, which has no record to compare.</exception>
    public RecordChange IfMatch(ReadOnlySpan<byte> expected) => Kind == RecordChangeKind.Create
        ? throw new InvalidOperationException("A create has no current record to compare with; only an update or a destroy can be conditional.")
        : new RecordChange(Kind, Id, _value, Depth, expected.ToArray());

    /// <inheritdoc/>
    public override string ToString() => Kind == RecordChangeKind.Destroy
        ? $"{Kind} {Id}"
        : $"{Kind} {Id} {Encoding.UTF8.GetString(_value)}";

    private static byte[] ToUtf8(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Encoding.UTF8.GetBytes(json);
    }

    private static string CheckId(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (id.Length == 0)
        {
            // "" is a valid RFC 6901 token, but "/messages/" as a record's URL is a trap for every client and router.
            ThrowHelper.ThrowRefused(ChangeRefusal.InvalidId, id, -1, "A record id must not be empty.");
        }

        if (id.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') >= 0 && !JsonPatchWriter.HasOnlyPairedSurrogates(id))
        {
            // The id is a member name of the document and a token of every event's path, which must be Unicode text:
            // refused here, before a collection is touched, rather than failing half-way through publishing.
            ThrowHelper.ThrowRefused(ChangeRefusal.InvalidId, id, -1, "A record id must be Unicode text: it has an unpaired surrogate.");
        }

        return id;
    }

    private static RecordChange Checked(RecordChangeKind kind, string id, ReadOnlySpan<byte> utf8Json)
    {
        // One read checks the syntax, the depth and duplicate member names; records with duplicates could not be
        // patched later (JSON Patch needs one meaning per name), so they are refused here, where they come in. The copy
        // is what is checked, so what subscribers are sent is exactly what passed.
        var copy = utf8Json.ToArray();
        var problem = StrictJson.FindProblem(copy, out var depth);
        if (problem is null && !JsonElementChecks.IsUnicodeText(copy))
        {
            problem = "it is not valid Unicode text (bytes that are not UTF-8, or an escaped unpaired surrogate)";
        }

        if (problem is not null)
        {
            ThrowHelper.ThrowRefused(ChangeRefusal.InvalidJson, id, -1, $"The value of record '{id}' is not one well-formed JSON value: {problem}");
        }

        return new RecordChange(kind, id, copy, depth);
    }
}
