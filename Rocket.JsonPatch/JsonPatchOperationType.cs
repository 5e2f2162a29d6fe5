namespace Rocket.JsonPatch;

/// <summary>The six operations of RFC 6902 section 4. There is no <c>update</c>: it is not JSON Patch.</summary>
public enum JsonPatchOperationType
{
    /// <summary><c>add</c>: insert into an array, or create or overwrite an object member.</summary>
    Add,

    /// <summary><c>remove</c>: delete the value at <c>path</c>, which must exist.</summary>
    Remove,

    /// <summary><c>replace</c>: overwrite the value at <c>path</c>, which must exist.</summary>
    Replace,

    /// <summary><c>move</c>: remove at <c>from</c>, then add at <c>path</c>.</summary>
    Move,

    /// <summary><c>copy</c>: add a deep copy of the value at <c>from</c> at <c>path</c>.</summary>
    Copy,

    /// <summary><c>test</c>: fail unless the value at <c>path</c> equals <c>value</c> as JSON.</summary>
    Test,
}
