namespace Rocket.Diagnostics;

/// <summary>
/// The names Rocket's telemetry is published under: one <see cref="System.Diagnostics.Metrics.Meter"/> and one
/// <see cref="System.Diagnostics.ActivitySource"/>, both named <c>Rocket</c>. docs/observability.md lists every
/// instrument, its unit and attributes, and every activity.
/// </summary>
public static class RocketTelemetry
{
    /// <summary>The meter's name, <c>Rocket</c>: <c>dotnet-counters monitor --counters Rocket</c>, or <c>AddMeter("Rocket")</c> in OpenTelemetry.</summary>
    public const string MeterName = "Rocket";

    /// <summary>The activity source's name, <c>Rocket</c>: <c>AddSource("Rocket")</c> in OpenTelemetry.</summary>
    public const string ActivitySourceName = "Rocket";
}
