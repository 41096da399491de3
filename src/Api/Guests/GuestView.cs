using Ferry.Domain.Guests;

namespace Ferry.Api.Guests;

/// <summary>A guest as the API shows it; <c>host</c> is the name of the host it runs on.</summary>
public sealed record GuestView(Guid Id, string Name, int MemoryMiB, int Vcpus, string Host, Guid HostId, GuestState State,
    long? HugepageSizeKiB, IReadOnlyList<string> VhostUserPorts, GuestProfile Profile)
{
    internal static GuestView From(Guest g, string hostName) =>
        new(g.Id, g.Name, g.MemoryMiB, g.Vcpus, hostName, g.HostId, g.State, g.HugepageSizeKiB, g.VhostUserPorts, g.Profile);
}
