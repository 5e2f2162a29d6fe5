using System;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Rocket.AspNetCore;
using Rocket.Transports.Sse;

namespace Rocket;

/// <summary>Adds the Server-Sent Events transport to Rocket.</summary>
public static class RocketSseBuilderExtensions
{
    /// <summary>
    /// Serves every mapped collection's stream as Server-Sent Events to requests with <c>Accept: text/event-stream</c>.
    /// </summary>
    public static IRocketBuilder AddSseTransport(this IRocketBuilder builder, Action<SseTransportOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<SseTransportOptions>().ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SseTransportOptions>, SseTransportOptionsValidator>());
        if (configure is not null)
        {
            builder.Services.Configure(configure);
        }

        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IRocketStreamEndpoint, SseStreamEndpoint>());
        return builder;
    }
}
