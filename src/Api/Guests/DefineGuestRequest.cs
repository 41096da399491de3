using Ferry.Domain.Guests;

namespace Ferry.Api.Guests;

/// <summary>Defines a guest on a host.</summary>
/// <param name="Name">Unique name, <c>[a-z0-9-]{1,63}</c>.</param>
/// <param name="MemoryMiB">RAM, MiB.</param>
/// <param name="Vcpus">Virtual CPUs.</param>
/// <param name="Host">Host id or name.</param>
/// <param name="HugepageSizeKiB">2048 or 1048576 to back RAM with hugepages; absent for shared memory.</param>
/// <param name="VhostUserPorts">vhost-user port names on the host's OVS-DPDK bridge.</param>
/// <param name="Profile">What the guest runs when started: <c>idle</c> (default), <c>pageCounter</c> (the memory-invariant test guest) or <c>forwarder</c> (the L2-forwarding guest; exactly two vhost-user ports).</param>
/// <param name="VnfInstanceId">The VNF instance the guest belongs to, as the NFVO/VNFM names it (≤ 255 characters); shown on the guest, its migrations and their notifications.</param>
/// <param name="VnfcInstanceId">The VNFC instance the guest is (≤ 255 characters).</param>
public sealed record DefineGuestRequest(string? Name, int? MemoryMiB, int? Vcpus, string? Host, long? HugepageSizeKiB,
    IReadOnlyList<string>? VhostUserPorts, GuestProfile? Profile = null, string? VnfInstanceId = null, string? VnfcInstanceId = null);
