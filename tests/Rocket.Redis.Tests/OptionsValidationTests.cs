using System;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Rocket.Redis.Tests;

/// <summary>
/// Wrong Redis options stop the app when it starts, before it connects (no Redis is needed), with the option named.
/// </summary>
public sealed class OptionsValidationTests
{
    [Fact]
    public async Task Start_EmptyKeyPrefixAndZeroInterval_FailsNamingBoth()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddRocket().AddCollection("messages").AddRedis(static o =>
        {
            o.Configuration = "127.0.0.1:1";
            o.KeyPrefix = string.Empty;
            o.PositionCheckInterval = TimeSpan.Zero;
        });
        await using var app = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("RedisRocketOptions.KeyPrefix is empty", error.Message, StringComparison.Ordinal);
        Assert.Contains("RedisRocketOptions.PositionCheckInterval is 00:00:00; it must be positive", error.Message, StringComparison.Ordinal);
    }
}
