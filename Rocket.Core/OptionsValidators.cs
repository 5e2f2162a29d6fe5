using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using Microsoft.Extensions.Options;
using Rocket.Live;

namespace Rocket;

/// <summary>
/// Collects what is wrong with one options object, each failure a sentence naming the option, its value and the rule,
/// so a host that fails to start says which setting to change.
/// </summary>
internal sealed class OptionsFailures(string options)
{
    private List<string>? _failures;

    public void Require(bool holds, string option, object value, string rule)
    {
        if (!holds)
        {
            (_failures ??= []).Add(string.Format(CultureInfo.InvariantCulture, "{0}.{1} is {2}; it must be {3}.", options, option, value, rule));
        }
    }

    public ValidateOptionsResult Result => _failures is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(_failures);

    /// <summary>The options' type, and for named options which ones: <c>LiveCollectionOptions["messages"]</c>.</summary>
    public static string Describe<T>(string? name) =>
        string.IsNullOrEmpty(name) ? typeof(T).Name : $"{typeof(T).Name}[\"{name}\"]";
}

/// <summary>Checks <see cref="RocketOptions"/> when the options are built; with <c>ValidateOnStart</c>, when the host starts.</summary>
internal sealed class RocketOptionsValidator : IValidateOptions<RocketOptions>
{
    public ValidateOptionsResult Validate(string? name, RocketOptions options)
    {
        var failures = new OptionsFailures(OptionsFailures.Describe<RocketOptions>(name));
        failures.Require(options.MaxSubscribers >= 0, nameof(options.MaxSubscribers), options.MaxSubscribers, "0 or more");
        return failures.Result;
    }
}

/// <summary>
/// Checks every named <see cref="LiveCollectionOptions"/> (a collection's, a family's) with the rules the
/// <see cref="LiveCollection"/> constructor enforces, so a wrong setting stops the host at start instead of the first
/// request that creates the collection.
/// </summary>
internal sealed class LiveCollectionOptionsValidator : IValidateOptions<LiveCollectionOptions>
{
    public ValidateOptionsResult Validate(string? name, LiveCollectionOptions options)
    {
        var failures = new OptionsFailures(OptionsFailures.Describe<LiveCollectionOptions>(name));
        failures.Require(options.HistoryMaxEvents >= 0, nameof(options.HistoryMaxEvents), options.HistoryMaxEvents, "0 (no history) or more");
        failures.Require(options.HistoryMaxBytes >= 0, nameof(options.HistoryMaxBytes), options.HistoryMaxBytes, "0 or more");
        failures.Require(options.SubscriberQueueMaxEvents >= 1, nameof(options.SubscriberQueueMaxEvents), options.SubscriberQueueMaxEvents, "at least 1");
        failures.Require(options.SubscriberQueueMaxBytes >= 1, nameof(options.SubscriberQueueMaxBytes), options.SubscriberQueueMaxBytes, "at least 1");
        failures.Require(options.MaxRecordBytes >= 1, nameof(options.MaxRecordBytes), options.MaxRecordBytes, "at least 1");
        failures.Require(options.MaxRecordDepth is >= 1 and <= LiveCollectionOptions.MaxRecordDepthLimit, nameof(options.MaxRecordDepth), options.MaxRecordDepth,
            $"between 1 and {LiveCollectionOptions.MaxRecordDepthLimit}");
        failures.Require(options.MaxSubscribers >= 0, nameof(options.MaxSubscribers), options.MaxSubscribers, "0 or more");
        failures.Require(options.CloseTimeout >= TimeSpan.Zero, nameof(options.CloseTimeout), options.CloseTimeout, "zero or more");
        failures.Require(options.HeartbeatInterval >= TimeSpan.Zero || options.HeartbeatInterval == Timeout.InfiniteTimeSpan, nameof(options.HeartbeatInterval), options.HeartbeatInterval,
            "positive, or zero or Timeout.InfiniteTimeSpan for none");
        return failures.Result;
    }
}

/// <summary>Checks every named <see cref="CollectionFamilyOptions"/> (one per family template).</summary>
internal sealed class CollectionFamilyOptionsValidator : IValidateOptions<CollectionFamilyOptions>
{
    public ValidateOptionsResult Validate(string? name, CollectionFamilyOptions options)
    {
        var failures = new OptionsFailures(OptionsFailures.Describe<CollectionFamilyOptions>(name));
        failures.Require(options.IdleTimeout >= TimeSpan.Zero || options.IdleTimeout == Timeout.InfiniteTimeSpan, nameof(options.IdleTimeout), options.IdleTimeout,
            "positive, or zero or Timeout.InfiniteTimeSpan to never evict an idle instance");
        failures.Require(options.MaxInstances >= 1, nameof(options.MaxInstances), options.MaxInstances, "at least 1");
        failures.Require(options.MaxValueLength >= 1, nameof(options.MaxValueLength), options.MaxValueLength, "at least 1");
        return failures.Result;
    }
}
