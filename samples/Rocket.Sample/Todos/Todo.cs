namespace Rocket.Sample.Todos;

/// <summary>A row of the <c>todos</c> table, and the record clients see: <c>{"id":"...","title":"...","done":false}</c>.</summary>
public sealed class Todo
{
    public string Id { get; set; } = "";

    public string Title { get; set; } = "";

    public bool Done { get; set; }
}
