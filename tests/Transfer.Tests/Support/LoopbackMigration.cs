using System.Net;
using System.Net.Sockets;
using Ferry.Transfer.Memory;
using Ferry.Transfer.Migration;
using Ferry.Transfer.Protocol;

namespace Ferry.Transfer.Tests.Support;

/// <summary>A source RAM, a destination RAM and a destination listening on loopback.</summary>
internal sealed class LoopbackMigration : IDisposable
{
    public LoopbackMigration(long size)
    {
        Source = GuestMemory.CreateMemfd("source", size);
        Destination = GuestMemory.CreateMemfd("destination", size);
        Credentials = MigrationCredentials.CreateRandom(Guid.NewGuid());
        Listener = new TcpListener(IPAddress.Loopback, 0);
        Listener.Start();
    }

    public GuestMemory Source { get; }

    public GuestMemory Destination { get; }

    public MigrationCredentials Credentials { get; }

    public TcpListener Listener { get; }

    public IPEndPoint EndPoint => (IPEndPoint)Listener.LocalEndpoint;

    public Task<DestinationResult> StartDestination(int streams, Func<ReadOnlyMemory<byte>, CancellationToken, Task> startGuest,
        MigrationCredentials? credentials = null, TimeSpan? progressTimeout = null, Action? switchoverSoon = null, CancellationToken cancellationToken = default)
    {
        var destination = new DestinationMigration(Destination, credentials ?? Credentials, streams, progressTimeout ?? TimeSpan.FromSeconds(10))
        {
            SwitchoverSoon = switchoverSoon,
        };
        return Task.Run(() => destination.RunAsync(Listener, startGuest, cancellationToken), CancellationToken.None);
    }

    public static unsafe bool SameBytes(GuestMemory a, GuestMemory b) =>
        a.Size == b.Size && new ReadOnlySpan<byte>(a.Pointer, (int)a.Size).SequenceEqual(new ReadOnlySpan<byte>(b.Pointer, (int)b.Size));

    public void Dispose()
    {
        Listener.Stop();
        Listener.Dispose();
        Source.Dispose();
        Destination.Dispose();
    }
}
