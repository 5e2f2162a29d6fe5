using Microsoft.Extensions.DependencyInjection;

namespace Rocket;

/// <summary>
/// What <see cref="RocketServiceCollectionExtensions.AddRocket(IServiceCollection)"/> returns: collections and
/// transports add themselves through it (<c>.AddCollection("messages")</c>, <c>.AddSseTransport()</c>).
/// </summary>
public interface IRocketBuilder
{
    /// <summary>The service collection Rocket is registered in.</summary>
    IServiceCollection Services { get; }
}
