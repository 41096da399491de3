using System.Net.Security;

namespace Ferry.Agent.Migration.Transports.Qemu;

/// <summary>
/// This host's cluster certificate in the form QEMU's <c>tls-creds-x509</c> reads, for the qemu
/// transport's TLS. Without cluster TLS (<c>Ferry:Tls</c> names no certificate) there is none, and
/// QEMU's migrations run over plain TCP.
/// </summary>
public interface IQemuTlsCredentials
{
    /// <summary>Whether QEMU's migrations to and from this host use TLS.</summary>
    bool Enabled { get; }

    /// <summary>Why the stream is plain when it is, for the transport's reason.</summary>
    string PlainReason { get; }

    /// <summary>
    /// The credentials for a migration's source, which checks that the target's certificate names
    /// <paramref name="targetHost"/> (its address when null); null without cluster TLS. Writes QEMU's
    /// credentials directory on first use.
    /// </summary>
    /// <exception cref="IOException">The directory could not be written or given to QEMU's user.</exception>
    QemuMigrationTls? ForSource(string? targetHost);

    /// <summary>
    /// The credentials for a migration's target, which takes a stream only from the certificate of
    /// <paramref name="sourceHost"/> (QEMU's <c>tls-authz</c>), and of this host too when
    /// <paramref name="acceptThisHost"/> (an auto target, to which this agent may hand the device state of a
    /// native migration); null without cluster TLS.
    /// </summary>
    /// <exception cref="IOException">
    /// The directory could not be written, or this host's certificate does not let Ferry name another
    /// host's subject as gnutls prints it (<see cref="QemuTlsSubject"/>).
    /// </exception>
    QemuMigrationTls? ForTarget(string sourceHost, bool acceptThisHost = false);

    /// <summary>
    /// TLS for this agent's own connection to a target QEMU that listens with these credentials (the
    /// device state of a native migration into a target prepared for both transports); null without cluster TLS.
    /// </summary>
    SslClientAuthenticationOptions? LocalClient();
}
