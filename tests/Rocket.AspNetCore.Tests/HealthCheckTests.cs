using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Rocket.AspNetCore;
using Rocket.Live;

namespace Rocket.AspNetCore.Tests;

/// <summary>The <c>rocket</c> health check: unhealthy until store-backed collections are loaded, healthy after, unhealthy once disposed.</summary>
public sealed class HealthCheckTests
{
    [Fact]
    public async Task StoreBackedCollection_UnhealthyBeforeTheHostLoadsIt_HealthyAfter_UnhealthyWhenDisposed()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddRocket().AddCollection("open").AddCollection<OneRecordStore>("stored");
        builder.Services.AddHealthChecks().AddRocket();
        await using var app = builder.Build();
        var health = app.Services.GetRequiredService<HealthCheckService>();

        var before = (await health.CheckHealthAsync()).Entries["rocket"];
        Assert.Equal(HealthStatus.Unhealthy, before.Status);
        Assert.Contains("'stored' is not loaded", before.Description, StringComparison.Ordinal);

        await app.StartAsync();
        var after = (await health.CheckHealthAsync()).Entries["rocket"];
        Assert.Equal(HealthStatus.Healthy, after.Status);
        Assert.Equal(0, after.Data["stored"]);
        Assert.Equal(1, app.Services.GetRequiredService<CollectionRegistry>().GetCollection("stored").Count);

        app.Services.GetRequiredService<CollectionRegistry>().GetCollection("open").Dispose();
        var disposed = (await health.CheckHealthAsync()).Entries["rocket"];
        Assert.Equal(HealthStatus.Unhealthy, disposed.Status);
        Assert.Contains("'open' is disposed", disposed.Description, StringComparison.Ordinal);
        await app.StopAsync();
    }

    private sealed class OneRecordStore : ICollectionStore
    {
        public async IAsyncEnumerable<KeyValuePair<string, ReadOnlyMemory<byte>>> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            yield return new KeyValuePair<string, ReadOnlyMemory<byte>>("1", "{\"n\":1}"u8.ToArray());
        }

        public ValueTask<StoreWrite> WriteAsync(RecordChange change, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("the test only reads");
    }
}
