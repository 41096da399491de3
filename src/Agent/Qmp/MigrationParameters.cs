using System.Text.Json.Serialization;

namespace Ferry.Agent.Qmp;

/// <summary>Arguments of <c>migrate-set-parameters</c>; members left null are not sent, so QEMU keeps its value.</summary>
public sealed record MigrationParameters
{
    /// <summary>Longest acceptable pause of the guest at switch-over, in milliseconds.</summary>
    [JsonPropertyName("downtime-limit")]
    public long? DowntimeLimitMs { get; init; }

    /// <summary>Bytes per second. QEMU 7.2 defaults to 128 MiB/s, so Ferry always sets it.</summary>
    [JsonPropertyName("max-bandwidth")]
    public long? MaxBandwidthBytesPerSecond { get; init; }

    [JsonPropertyName("multifd-channels")]
    public int? MultifdChannels { get; init; }

    /// <summary>
    /// On the target: how long after the guest runs QEMU sends its first announcement (a RARP from each
    /// NIC's MAC, through the vhost-user backend), in milliseconds; QEMU's default is 50.
    /// </summary>
    [JsonPropertyName("announce-initial")]
    public long? AnnounceInitialMs { get; init; }

    /// <summary>
    /// The id of the <c>tls-creds-x509</c> object the migration's channels (main and multifd) use; empty
    /// for plain TCP. QEMU keeps the value for later migrations, so Ferry always sets it, on or off.
    /// </summary>
    [JsonPropertyName("tls-creds")]
    public string? TlsCreds { get; init; }

    /// <summary>
    /// At the source: the name the target's certificate must carry; empty to check the address in the
    /// migration URI instead.
    /// </summary>
    [JsonPropertyName("tls-hostname")]
    public string? TlsHostname { get; init; }

    /// <summary>
    /// At the target: the id of the <c>authz</c> object that must allow the source's certificate (its
    /// distinguished name) before QEMU reads a byte of its stream. Unset, any certificate <c>tls-creds</c>
    /// trusts; QEMU 7.2 takes an empty string for an object's id, so an empty one denies every peer.
    /// </summary>
    [JsonPropertyName("tls-authz")]
    public string? TlsAuthz { get; init; }
}
