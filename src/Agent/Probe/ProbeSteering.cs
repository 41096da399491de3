using System.Net.NetworkInformation;
using System.Security.Cryptography;
using System.Text;
using Ferry.Agent.Ovs;

namespace Ferry.Agent.Probe;

/// <summary>
/// The OpenFlow rules that carry a migration's probe stream through a guest on whichever host it runs,
/// over bridges joined by a fabric port:
/// <list type="bullet">
/// <item>source host: generator → the guest's first port and the fabric; the guest's second port → sink;
/// the stream coming back over the fabric → sink;</item>
/// <item>target host: the stream from the fabric → the guest's first port; its second port → the fabric;</item>
/// <item>both: what the guest sends out of its first port (the other direction) is dropped, and on every
/// host probe frames from the fabric that no rule claims are dropped rather than flooded into guests.</item>
/// </list>
/// A source's rules carry the migration's cookie and go when its probe ends; a target's carry the guest's
/// and go with the guest's ports.
/// </summary>
public static class ProbeSteering
{
    private const byte MigrationTag = 0xF1;
    private const byte GuestTag = 0xF2;
    private const byte FabricTag = 0xF3;

    /// <summary>The stream of a migration: its id and its generator's MAC follow from the migration id.</summary>
    public static ProbeStream StreamFor(string migrationId)
    {
        var hash = Hash(migrationId);
        var id = BitConverter.ToUInt32(hash, 0);
        var index = (ushort)(id & 0x7FFF);
        return new ProbeStream(id, ProbeFrame.EndpointAddress(index), ProbeFrame.EndpointAddress((ushort)(index | 0x8000)));
    }

    /// <summary>The generator's and the sink's OVS internal ports of a migration's probe (at most 15 characters).</summary>
    public static (string Generator, string Sink) PortsFor(string migrationId)
    {
        var tag = Convert.ToHexStringLower(Hash(migrationId), 0, 4);
        return ($"pg-{tag}", $"ps-{tag}");
    }

    public static ulong MigrationCookie(string migrationId) => Cookie(MigrationTag, migrationId);

    public static ulong GuestCookie(string guest) => Cookie(GuestTag, guest);

    public static ulong FabricCookie { get; } = (ulong)FabricTag << 56;

    public static IReadOnlyList<SteeringRule> Source(ProbeStream stream, string generator, string sink, string guestIn, string guestOut, string fabric) =>
    [
        new(generator, [guestIn, fabric]),
        new(guestOut, [sink]),
        new(fabric, [sink], FromAddress: stream.Source),
        SteeringRule.Drop(guestIn),
    ];

    public static IReadOnlyList<SteeringRule> Target(PhysicalAddress generator, string guestIn, string guestOut, string fabric) =>
    [
        new(fabric, [guestIn], FromAddress: generator),
        new(guestOut, [fabric]),
        SteeringRule.Drop(guestIn),
    ];

    /// <summary>Probe frames from the fabric that no stream's rule claims: dropped, never flooded into guests.</summary>
    public static SteeringRule StrayFromFabric(string fabric) => new(fabric, [], EtherType: ProbeFrame.EtherType) { Fallback = true };

    private static ulong Cookie(byte tag, string key) =>
        ((ulong)tag << 56) | (BitConverter.ToUInt64(Hash(key), 0) & 0x00FF_FFFF_FFFF_FFFFUL);

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
