using System;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rocket.Transports.Sse;
using Rocket.Transports.WebSockets;

namespace Rocket.AspNetCore.Tests;

/// <summary>
/// Every option Rocket registers is checked when the app starts (or, for the HTTP limits, when it maps a collection):
/// a wrong value stops the app with an <see cref="OptionsValidationException"/> whose message names the option, its
/// value and the rule, instead of surfacing on the first request that needs it.
/// </summary>
public sealed class OptionsValidationTests
{
    [Fact]
    public async Task Start_CollectionOptionOutOfRange_FailsNamingCollectionAndOption()
    {
        var error = await StartFailsAsync(services => services.AddRocket().AddCollection("messages", static o => o.MaxRecordDepth = 65));

        Assert.Contains("LiveCollectionOptions[\"messages\"].MaxRecordDepth is 65", error.Message, StringComparison.Ordinal);
        Assert.Contains("between 1 and 64", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_CollectionOptionsWithSeveralFaults_NamesEachOne()
    {
        var error = await StartFailsAsync(services => services.AddRocket().AddCollection("messages", static o =>
        {
            o.SubscriberQueueMaxEvents = 0;
            o.CloseTimeout = TimeSpan.FromSeconds(-1);
        }));

        Assert.Contains("LiveCollectionOptions[\"messages\"].SubscriberQueueMaxEvents is 0", error.Message, StringComparison.Ordinal);
        Assert.Contains("LiveCollectionOptions[\"messages\"].CloseTimeout is -00:00:01", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_ProcessWideOptionOutOfRange_FailsNamingOption()
    {
        var error = await StartFailsAsync(services =>
        {
            services.AddRocket().AddCollection("messages");
            services.Configure<RocketOptions>(static o => o.MaxSubscribers = -1);
        });

        Assert.Contains("RocketOptions.MaxSubscribers is -1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_FamilyOptionOutOfRange_FailsNamingTemplateAndOption()
    {
        var error = await StartFailsAsync(services => services.AddRocket().AddCollectionFamily("rooms/{room}/messages", static o => o.MaxInstances = 0));

        Assert.Contains("CollectionFamilyOptions[\"rooms/{room}/messages\"].MaxInstances is 0", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public async Task Start_SseRetryJitterOutsideZeroToOne_FailsNamingOption(double jitter)
    {
        var error = await StartFailsAsync(services => services.AddRocket().AddCollection("messages").AddSseTransport(o => o.RetryJitter = jitter));

        Assert.Contains("SseTransportOptions.RetryJitter is", error.Message, StringComparison.Ordinal);
        Assert.Contains("it must be a number from 0 to 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_SseOptionOutOfRange_FailsNamingOption()
    {
        var error = await StartFailsAsync(services => services.AddRocket().AddCollection("messages").AddSseTransport(static o => o.WriteTimeout = TimeSpan.Zero));

        Assert.Contains("SseTransportOptions.WriteTimeout is 00:00:00; it must be positive", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WebSocketOptionOutOfRange_FailsNamingOption()
    {
        var error = await StartFailsAsync(services => services.AddRocket().AddCollection("messages").AddWebSocketTransport(static o => o.MaxIncomingMessageBytes = 10));

        Assert.Contains("WebSocketTransportOptions.MaxIncomingMessageBytes is 10; it must be at least 64", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Map_HttpOptionOutOfRange_FailsNamingOption()
    {
        var builder = CreateBuilder();
        builder.Services.AddRocket().AddCollection("messages");
        builder.Services.Configure<RocketHttpOptions>(static o => o.MaxBodyBytes = 0);
        using var app = builder.Build();

        var error = Assert.Throws<OptionsValidationException>(() => app.MapRocketCollection("messages"));

        Assert.Contains("RocketHttpOptions.MaxBodyBytes is 0; it must be at least 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_DefaultOptions_Starts()
    {
        var builder = CreateBuilder();
        builder.Services.AddRocket().AddCollection("messages").AddCollectionFamily("rooms/{room}/messages").AddSseTransport().AddWebSocketTransport();
        await using var app = builder.Build();
        app.MapRocketCollection("messages");

        await app.StartAsync();

        Assert.NotNull(app.Services.GetRequiredService<CollectionRegistry>().GetCollection("messages"));
        await app.StopAsync();
    }

    private static async Task<OptionsValidationException> StartFailsAsync(Action<IServiceCollection> configure)
    {
        var builder = CreateBuilder();
        configure(builder.Services);
        await using var app = builder.Build();

        return await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
    }

    private static WebApplicationBuilder CreateBuilder()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        return builder;
    }
}
