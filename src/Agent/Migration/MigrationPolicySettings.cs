using Ferry.Contracts;

namespace Ferry.Agent.Migration;

/// <summary>Turns a migration policy into the qemu transport's settings; zero means "the default" throughout the policy.</summary>
public static class MigrationPolicySettings
{
    private const int MaxParallelStreams = 16;

    public static MigrationSettings ToSettings(MigrationPolicy? policy)
    {
        var defaults = new MigrationSettings();
        if (policy is null)
        {
            return defaults;
        }

        return defaults with
        {
            DowntimeLimit = policy.MaxDowntimeMs > 0 ? TimeSpan.FromMilliseconds(Math.Max(1, policy.MaxDowntimeMs)) : defaults.DowntimeLimit,

            // The policy speaks megabits per second, QEMU bytes per second.
            MaxBandwidthBytesPerSecond = policy.BandwidthMbps > 0 ? policy.BandwidthMbps * 125_000L : MigrationSettings.Unlimited,
            ParallelStreams = Math.Clamp(policy.ParallelStreams, 1, MaxParallelStreams),
            AllowAutoConverge = policy.AllowAutoConverge,
            CompletionTimeout = policy.CompletionTimeoutSeconds > 0 ? TimeSpan.FromSeconds(policy.CompletionTimeoutSeconds) : defaults.CompletionTimeout,
            ProgressTimeout = policy.ProgressTimeoutSeconds > 0 ? TimeSpan.FromSeconds(policy.ProgressTimeoutSeconds) : defaults.ProgressTimeout,
        };
    }
}
