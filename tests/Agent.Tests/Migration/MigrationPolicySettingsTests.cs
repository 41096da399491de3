using Ferry.Agent.Migration;
using Ferry.Contracts;
using TransportKind = Ferry.Domain.Migrations.TransportKind;

namespace Ferry.Agent.Tests.Migration;

[Trait("Tier", "fast")]
public sealed class MigrationPolicySettingsTests
{
    [Fact]
    public void A_policy_of_zeros_keeps_the_transport_defaults_and_an_unlimited_link()
    {
        var settings = MigrationPolicySettings.ToSettings(new MigrationPolicy());

        Assert.Equal(new MigrationSettings(), settings);
        Assert.Equal(MigrationSettings.Unlimited, settings.MaxBandwidthBytesPerSecond);
    }

    [Fact]
    public void Policy_limits_become_qemu_parameters_in_qemu_units()
    {
        var settings = MigrationPolicySettings.ToSettings(new MigrationPolicy
        {
            MaxDowntimeMs = 10,
            BandwidthMbps = 40,
            ParallelStreams = 4,
            CompletionTimeoutSeconds = 30,
            ProgressTimeoutSeconds = 5,
            AllowAutoConverge = true,
        });

        Assert.Equal(TimeSpan.FromMilliseconds(10), settings.DowntimeLimit);
        Assert.Equal(5_000_000, settings.MaxBandwidthBytesPerSecond);
        Assert.Equal(4, settings.ParallelStreams);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.CompletionTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), settings.ProgressTimeout);
        Assert.True(settings.AllowAutoConverge);
    }

    [Theory]
    [InlineData(TransportKind.Auto, TransportKind.Auto)]
    [InlineData(TransportKind.Qemu, TransportKind.Qemu)]
    [InlineData(TransportKind.Native, TransportKind.Native)]
    public void Policies_resolve_to_what_they_ask_for_with_a_reason_until_guest_and_host_are_known(TransportKind requested, TransportKind resolved)
    {
        var choice = TransportChoice.Resolve(requested);

        Assert.Equal(resolved, choice.Kind);
        Assert.False(string.IsNullOrEmpty(choice.Reason));
    }

    [Theory]
    [InlineData("counter", "d3b07384-d113-4956-9fc1-6f1f9f0f0f0f")]
    [InlineData("a-guest-name-that-is-exactly-sixty-three-characters-long-abcdef", "x")]
    public void Target_instances_are_valid_resource_names_and_differ_per_migration(string guest, string id)
    {
        var instance = MigrationId.TargetInstance(guest, id);

        Assert.True(Ferry.Agent.Qemu.ResourceName.IsValid(instance), instance);
        Assert.NotEqual(instance, MigrationId.TargetInstance(guest, id + "0"));
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("a/b")]
    [InlineData("")]
    [InlineData("id with spaces")]
    public void Migration_ids_that_could_escape_the_outbox_directory_are_refused(string id) => Assert.False(MigrationId.IsValid(id));
}
