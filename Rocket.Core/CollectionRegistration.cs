namespace Rocket;

// One per AddCollection call; the registry turns them into collections.
internal sealed class CollectionRegistration(string name)
{
    public string Name { get; } = name;
}

// One per AddCollectionFamily call.
internal sealed class CollectionFamilyRegistration(string template)
{
    public string Template { get; } = template;
}
