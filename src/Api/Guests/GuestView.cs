using Ferry.Domain.Guests;
using Ferry.Domain.Hosts;

namespace Ferry.Api.Guests;

/// <summary>
/// A guest as the API shows it; <c>host</c> is the name of the host it runs on, <c>accelerator</c> and
/// <c>acceleratorReason</c> what that host's agent runs this kind of guest with and why (absent until
/// the agent reported it); <c>vnfInstanceId</c> and <c>vnfcInstanceId</c> what an NFVO correlates it with.
/// </summary>
public sealed record GuestView(Guid Id, string Name, int MemoryMiB, int Vcpus, string Host, Guid HostId, GuestState State,
    long? HugepageSizeKiB, IReadOnlyList<string> VhostUserPorts, GuestProfile Profile, string? Accelerator, string? AcceleratorReason,
    string? VnfInstanceId, string? VnfcInstanceId)
{
    internal static GuestView From(Guest g, string hostName, HostCapabilities hostCapabilities)
    {
        var accelerator = hostCapabilities.AcceleratorFor(g.Profile == GuestProfile.Forwarder ? GuestAccelerator.Linux : GuestAccelerator.Firmware);
        return new(g.Id, g.Name, g.MemoryMiB, g.Vcpus, hostName, g.HostId, g.State, g.HugepageSizeKiB, g.VhostUserPorts, g.Profile,
            accelerator?.Accelerator, accelerator?.Reason, g.VnfInstanceId, g.VnfcInstanceId);
    }
}
