using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Ferry.Agent.Qmp;

/// <summary>
/// A migration URI the agent built itself. Only <c>tcp:</c> is constructible, so a request can never
/// smuggle <c>exec:</c> or <c>fd:</c> into QEMU.
/// </summary>
public sealed record MigrationUri
{
    private MigrationUri(IPEndPoint endpoint, string value)
    {
        Endpoint = endpoint;
        Value = value;
    }

    public IPEndPoint Endpoint { get; }

    public string Value { get; }

    public static MigrationUri Tcp(IPAddress address, int port)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new ArgumentException("Only IPv4 and IPv6 addresses can carry a migration.", nameof(address));
        }

        var host = address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
        return new MigrationUri(new IPEndPoint(address, port), string.Create(CultureInfo.InvariantCulture, $"tcp:{host}:{port}"));
    }

    public override string ToString() => Value;
}
