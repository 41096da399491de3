namespace Ferry.Agent.Qmp;

/// <summary>Which end of a TLS session QEMU's credentials serve: the migration's target listens (server), its source dials (client).</summary>
public enum TlsEndpoint
{
    Server,
    Client,
}
