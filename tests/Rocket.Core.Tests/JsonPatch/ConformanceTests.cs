using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rocket.JsonPatch;

namespace Rocket.Core.Tests.JsonPatch;

/// <summary>
/// Runs every case of the public JSON Patch conformance suite (json-patch/json-patch-tests), in two revisions: the npm
/// package json-patch-test-suite 1.1.0 and the newer upstream commit copied into shared/. Cases marked "disabled" run
/// too: Rocket passes them. The npm tests always run (a missing npm file fails them); the shared tests are skipped with
/// the reason when shared/ is not beside the repository, unless CI requires them (<see cref="SharedSuite"/>), and then
/// a missing file fails them too.
/// </summary>
public sealed class ConformanceTests
{
    private const string Npm = "npm";
    private const string Shared = "shared";

    // Upstream counts (SOURCE.txt for shared/; the 1.1.0 tarball for npm): a file that loads short fails.
    private static readonly Dictionary<(string Source, string File), (int Cases, int Disabled)> ExpectedCounts = new()
    {
        [(Npm, "tests.json")] = (78, 3),
        [(Npm, "spec_tests.json")] = (17, 1),
        [(Shared, "tests.json")] = (95, 3),
        [(Shared, "spec_tests.json")] = (17, 1),
    };

    // The files hold two cases with a duplicate "op" member; System.Text.Json keeps duplicates unless told not to, and
    // each case's patch is kept as raw text so Rocket's own parser sees the duplicate.
    private static readonly JsonDocumentOptions SuiteOptions = new() { AllowDuplicateProperties = true };

    private static readonly ConcurrentDictionary<string, JsonElement[]> Loaded = new(StringComparer.Ordinal);

    /// <summary>Every case of the npm revision, as (file, index, description).</summary>
    public static IEnumerable<object[]> NpmCases() => Cases(Npm);

    /// <summary>Every case of the shared revision, as (file, index, description).</summary>
    public static IEnumerable<object[]> SharedCases() => Cases(Shared);

    private static IEnumerable<object[]> Cases(string source)
    {
        foreach (var ((caseSource, file), _) in ExpectedCounts)
        {
            if (caseSource != source)
            {
                continue;
            }

            JsonElement[]? cases = null;
            try
            {
                cases = Load(source, file);
            }
            catch (InvalidOperationException)
            {
                // Handled below: one row that fails with the loader's message, so a missing file is a red test, never a silent skip.
            }

            if (cases is null)
            {
                yield return [file, -1, "(file missing)"];
                continue;
            }

            for (var i = 0; i < cases.Length; i++)
            {
                yield return [file, i, Describe(cases[i])];
            }
        }
    }

    [Theory]
    [InlineData("tests.json")]
    [InlineData("spec_tests.json")]
    public void NpmSuiteFile_Loads_HasUpstreamCaseCount(string file) => AssertUpstreamCaseCount(Npm, file);

    [SharedSuiteTheory]
    [InlineData("tests.json")]
    [InlineData("spec_tests.json")]
    public void SharedSuiteFile_Loads_HasUpstreamCaseCount(string file) => AssertUpstreamCaseCount(Shared, file);

    [Theory]
    [InlineData("tests.json")]
    [InlineData("spec_tests.json")]
    public void NpmSuiteFile_StrictParse_RefusesItsDuplicateOpCase(string file) => AssertRefusedByStrictParse(Npm, file);

    [SharedSuiteTheory]
    [InlineData("tests.json")]
    [InlineData("spec_tests.json")]
    public void SharedSuiteFile_StrictParse_RefusesItsDuplicateOpCase(string file) => AssertRefusedByStrictParse(Shared, file);

    [Theory]
    [MemberData(nameof(NpmCases))]
    public void NpmCase_AppliedToJsonNode_MatchesSuite(string file, int index, string comment) =>
        AssertAppliedToJsonNodeMatches(Npm, file, index, comment);

    [SharedSuiteTheory]
    [MemberData(nameof(SharedCases))]
    public void SharedCase_AppliedToJsonNode_MatchesSuite(string file, int index, string comment) =>
        AssertAppliedToJsonNodeMatches(Shared, file, index, comment);

    [Theory]
    [MemberData(nameof(NpmCases))]
    public void NpmCase_AppliedToUtf8_MatchesSuite(string file, int index, string comment) =>
        AssertAppliedToUtf8Matches(Npm, file, index, comment);

    [SharedSuiteTheory]
    [MemberData(nameof(SharedCases))]
    public void SharedCase_AppliedToUtf8_MatchesSuite(string file, int index, string comment) =>
        AssertAppliedToUtf8Matches(Shared, file, index, comment);

    private static void AssertUpstreamCaseCount(string source, string file)
    {
        var cases = Load(source, file);
        var disabled = 0;
        foreach (var testCase in cases)
        {
            if (testCase.TryGetProperty("disabled", out var flag) && flag.ValueKind == JsonValueKind.True)
            {
                disabled++;
            }
        }

        Assert.Equal(ExpectedCounts[(source, file)], (cases.Length, disabled));
    }

    private static void AssertRefusedByStrictParse(string source, string file)
    {
        // The reason the suite is loaded with duplicates allowed: strict loading refuses the whole file.
        var bytes = File.ReadAllBytes(ExistingPath(source, file));
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(bytes, new JsonDocumentOptions { AllowDuplicateProperties = false }));
    }

    private static void AssertAppliedToJsonNodeMatches(string source, string file, int index, string comment)
    {
        var testCase = GetCase(source, file, index);
        var docText = testCase.GetProperty("doc").GetRawText();
        var patchText = testCase.GetProperty("patch").GetRawText();
        var document = JsonNode.Parse(docText);
        var before = document?.ToJsonString();

        if (testCase.TryGetProperty("error", out var error))
        {
            var thrown = Assert.Throws<JsonPatchException>(() => JsonPatchDocument.Parse(patchText).ApplyTo(document));
            Assert.False(string.IsNullOrEmpty(thrown.Message), $"{comment}: expected '{error.GetString()}'");
            Assert.Equal(before, document?.ToJsonString());
            return;
        }

        var result = JsonPatchDocument.Parse(patchText).ApplyTo(document);
        if (testCase.TryGetProperty("expected", out var expected))
        {
            Assert.True(
                JsonNode.DeepEquals(JsonNode.Parse(expected.GetRawText()), result),
                $"{comment}: expected {expected.GetRawText()}, got {result?.ToJsonString() ?? "null"}");
        }
    }

    private static void AssertAppliedToUtf8Matches(string source, string file, int index, string comment)
    {
        var testCase = GetCase(source, file, index);
        var docBytes = Encoding.UTF8.GetBytes(testCase.GetProperty("doc").GetRawText());
        var patchBytes = Encoding.UTF8.GetBytes(testCase.GetProperty("patch").GetRawText());

        if (testCase.TryGetProperty("error", out _))
        {
            var output = new System.Buffers.ArrayBufferWriter<byte>();
            Assert.Throws<JsonPatchException>(() => JsonPatchDocument.Parse(patchBytes).ApplyTo(docBytes, output));
            Assert.Equal(0, output.WrittenCount);
            return;
        }

        var result = JsonPatchDocument.Parse(patchBytes).ApplyToUtf8(docBytes);
        using var parsed = JsonDocument.Parse(result);
        if (testCase.TryGetProperty("expected", out var expected))
        {
            Assert.True(
                JsonElement.DeepEquals(expected, parsed.RootElement),
                $"{comment}: expected {expected.GetRawText()}, got {Encoding.UTF8.GetString(result)}");
        }
    }

    private static JsonElement GetCase(string source, string file, int index)
    {
        var cases = Load(source, file);
        Assert.InRange(index, 0, cases.Length - 1);
        return cases[index];
    }

    private static JsonElement[] Load(string source, string file) => Loaded.GetOrAdd($"{source}/{file}", static (_, key) =>
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(ExistingPath(key.Source, key.File)), SuiteOptions);
        var cases = new List<JsonElement>();
        foreach (var element in document.RootElement.EnumerateArray())
        {
            cases.Add(element.Clone());
        }

        return cases.ToArray();
    }, (Source: source, File: file));

    // A missing file throws with what to do about it, rather than a bare FileNotFoundException.
    private static string ExistingPath(string source, string file)
    {
        var path = Path.Combine(source == Npm ? TestFiles.NpmConformanceFolder : TestFiles.SharedConformanceFolder, file);
        if (!File.Exists(path))
        {
            var hint = source == Npm
                ? "run `npm ci` in tests/node (test.sh does) to install json-patch-test-suite 1.1.0"
                : $"the shared/ folder must sit beside the repository root ({SharedSuite.RequireVariable}=1 requires it)";
            throw new InvalidOperationException($"The JSON Patch conformance file {path} is missing: {hint}.");
        }

        return path;
    }

    private static string Describe(JsonElement testCase)
    {
        var text = testCase.TryGetProperty("comment", out var comment) && comment.ValueKind == JsonValueKind.String
            ? comment.GetString()!
            : "patch " + testCase.GetProperty("patch").GetRawText();
        if (text.Length > 80)
        {
            text = text[..77] + "...";
        }

        var outcome = testCase.TryGetProperty("error", out _) ? "error" : testCase.TryGetProperty("expected", out _) ? "expected" : "succeeds";
        var disabled = testCase.TryGetProperty("disabled", out var flag) && flag.ValueKind == JsonValueKind.True ? ", disabled" : string.Empty;
        return $"{text} [{outcome}{disabled}]";
    }
}
