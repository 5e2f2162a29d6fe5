using System;
using System.Collections.Generic;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Rocket.Redis;

/// <summary>Checks <see cref="RedisRocketOptions"/> when the host starts, naming the option that is wrong.</summary>
internal sealed class RedisRocketOptionsValidator : IValidateOptions<RedisRocketOptions>
{
    /// <summary>Registers the validator and asks for validation when the host starts.</summary>
    public static void Register(IServiceCollection services)
    {
        services.AddOptions<RedisRocketOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisRocketOptions>, RedisRocketOptionsValidator>());
    }

    public ValidateOptionsResult Validate(string? name, RedisRocketOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrEmpty(options.KeyPrefix))
        {
            failures.Add("RedisRocketOptions.KeyPrefix is empty; it must name the keys' prefix (default \"rocket\").");
        }

        if (options.PositionCheckInterval <= TimeSpan.Zero)
        {
            failures.Add($"RedisRocketOptions.PositionCheckInterval is {options.PositionCheckInterval}; it must be positive.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
