using System;
using System.Collections.Generic;
using Microsoft.Extensions.Options;

namespace Rocket.Transports.Sse;

/// <summary>Checks <see cref="SseTransportOptions"/> when the host starts (<c>AddSseTransport</c> asks for it).</summary>
internal sealed class SseTransportOptionsValidator : IValidateOptions<SseTransportOptions>
{
    public ValidateOptionsResult Validate(string? name, SseTransportOptions options)
    {
        var failures = new List<string>();
        if (options.RetryInterval < TimeSpan.Zero)
        {
            failures.Add($"SseTransportOptions.RetryInterval is {options.RetryInterval}; it must be zero or more.");
        }

        if (double.IsNaN(options.RetryJitter) || options.RetryJitter < 0 || options.RetryJitter > 1)
        {
            failures.Add($"SseTransportOptions.RetryJitter is {options.RetryJitter}; it must be a number from 0 to 1.");
        }

        if (options.WriteTimeout <= TimeSpan.Zero)
        {
            failures.Add($"SseTransportOptions.WriteTimeout is {options.WriteTimeout}; it must be positive.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
