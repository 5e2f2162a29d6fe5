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
    /// <param name="result">The run's JSON line.</param>
    /// <param name="window">What the server's window read.</param>
    /// <param name="deliveries">The deliveries it spans.</param>
    /// <param name="prefix">Prepended to every name (camel case joined), to tell a second flood's figures from the first's.</param>
    public static void Add(Dictionary<string, object?> result, JsonElement window, double deliveries, string prefix = "")
    {
        double PerDelivery(string name) => Math.Round(window.GetProperty(name).GetInt64() / deliveries, 3);
        string Name(string name) => prefix.Length == 0 ? name : prefix + char.ToUpperInvariant(name[0]) + name[1..];

        result[Name("windowAllocatedBytesPerDelivery")] = PerDelivery("allocatedBytes");
        result[Name("windowSampledBytesPerDelivery")] = PerDelivery("sampledBytes");
        result[Name("samplerListenerBytesPerDelivery")] = PerDelivery("listenerBytes");
        result[Name("kestrelPoolAllocatedBytesPerDelivery")] = PerDelivery("poolAllocatedBytes");
        result[Name("kestrelPoolEvictedBytesPerDelivery")] = PerDelivery("poolEvictedBytes");
        result[Name("kestrelPoolRentedBytesPerDelivery")] = PerDelivery("poolRentedBytes");
        result[Name("allocationTop")] = window.GetProperty("top").EnumerateArray()
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
