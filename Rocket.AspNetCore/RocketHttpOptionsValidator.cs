using System.Collections.Generic;
using Microsoft.Extensions.Options;

namespace Rocket.AspNetCore;

/// <summary>
/// Checks <see cref="RocketHttpOptions"/>; <c>MapRocketCollection</c> reads them through it, so a wrong limit stops the
/// app before it serves a request, with the option named.
/// </summary>
internal sealed class RocketHttpOptionsValidator : IValidateOptions<RocketHttpOptions>
{
    public ValidateOptionsResult Validate(string? name, RocketHttpOptions options)
    {
        var failures = new List<string>();
        if (options.MaxBodyBytes < 1)
        {
            failures.Add($"RocketHttpOptions.MaxBodyBytes is {options.MaxBodyBytes}; it must be at least 1.");
        }

        if (options.MaxDepth < 2)
        {
            failures.Add($"RocketHttpOptions.MaxDepth is {options.MaxDepth}; it must be at least 2 (a patch is an array of objects).");
        }

        if (options.MaxPatchOperations < 1)
        {
            failures.Add($"RocketHttpOptions.MaxPatchOperations is {options.MaxPatchOperations}; it must be at least 1.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>The options, or an <see cref="OptionsValidationException"/> naming every wrong one.</summary>
    public static RocketHttpOptions Checked(RocketHttpOptions options)
    {
        var result = new RocketHttpOptionsValidator().Validate(Microsoft.Extensions.Options.Options.DefaultName, options);
        return result.Failed
            ? throw new OptionsValidationException(Microsoft.Extensions.Options.Options.DefaultName, typeof(RocketHttpOptions), result.Failures)
            : options;
    }
}
