namespace Rocket;

// One per AddCollection call; the registry turns them into collections.
internal sealed class CollectionRegistration(string name)
{
    public string Name { get; } = name;
}
