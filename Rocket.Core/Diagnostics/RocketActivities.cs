using System.Diagnostics;

namespace Rocket.Diagnostics;

// Rocket's traces: an activity per published event (a child of whatever activity caused the write, an HTTP request
// usually) and one per subscription start. Nothing per delivery: a span per subscriber per event would cost more than the
// delivery itself. StartActivity returns null, and costs a check, unless a listener samples the source.
internal static class RocketActivities
{
    internal const string PublishName = "rocket.publish";
    internal const string SubscribeName = "rocket.subscribe";

    internal static readonly ActivitySource Source = new(RocketTelemetry.ActivitySourceName);
}
