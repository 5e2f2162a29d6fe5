using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.LoadTest;

/// <summary>
/// The load side of <see cref="AllocationSampler"/>: opens the server's allocation window as the flood starts, reads it
/// when the flood is delivered, and adds to the run's JSON line what was allocated per delivery by sampled type.
/// </summary>
internal static class AllocationWindow
{
    public static async Task ResetAsync(HttpClient control, CancellationToken cancellationToken) =>
        await control.GetFromJsonAsync<JsonElement>(new Uri("/control/allocations?reset=true&top=1", UriKind.Relative), cancellationToken);

    public static Task<JsonElement> ReadAsync(HttpClient control, CancellationToken cancellationToken) =>
        control.GetFromJsonAsync<JsonElement>(new Uri("/control/allocations?reset=true&top=12", UriKind.Relative), cancellationToken);

    /// <summary>
    /// The window's figures per delivery. It spans the publish request, the flood and this read, not the stats requests
    /// around them, so its total is a little below <c>serverAllocatedBytesPerDelivery</c>.
    /// </summary>
    public static void Add(Dictionary<string, object?> result, JsonElement window, double deliveries)
    {
        double PerDelivery(string name) => Math.Round(window.GetProperty(name).GetInt64() / deliveries, 3);

        result["windowAllocatedBytesPerDelivery"] = PerDelivery("allocatedBytes");
        result["windowSampledBytesPerDelivery"] = PerDelivery("sampledBytes");
        result["samplerListenerBytesPerDelivery"] = PerDelivery("listenerBytes");
        result["kestrelPoolAllocatedBytesPerDelivery"] = PerDelivery("poolAllocatedBytes");
        result["kestrelPoolEvictedBytesPerDelivery"] = PerDelivery("poolEvictedBytes");
        result["kestrelPoolRentedBytesPerDelivery"] = PerDelivery("poolRentedBytes");
        result["allocationTop"] = window.GetProperty("top").EnumerateArray()
            .Select(t => new Dictionary<string, object>
            {
                ["type"] = t.GetProperty("type").GetString()!,
                ["kind"] = t.GetProperty("kind").GetString()!,
                ["bytesPerDelivery"] = Math.Round(t.GetProperty("bytes").GetInt64() / deliveries, 3),
                ["ticks"] = t.GetProperty("ticks").GetInt32(),
            })
            .ToList();
    }
}
