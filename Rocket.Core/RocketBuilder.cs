using Microsoft.Extensions.DependencyInjection;

namespace Rocket;

internal sealed class RocketBuilder(IServiceCollection services) : IRocketBuilder
{
    public IServiceCollection Services { get; } = services;
}
