namespace Ferry.Agent.Migration.Transports.Qemu;

/// <summary>
/// QEMU's TLS at one end of a qemu-transport migration: a <c>tls-creds-x509</c> object over
/// <paramref name="CredentialsDirectory"/> (the cluster CA as <c>ca-cert.pem</c>, this host's certificate
/// and key as <c>server-*.pem</c> and <c>client-*.pem</c>) that checks the peer's certificate against
/// that CA, on the main channel and every multifd channel alike.
/// </summary>
/// <param name="CredentialsDirectory">A directory QEMU's user can read.</param>
/// <param name="TargetHostName">
/// At the source: the name the target's certificate must carry (QEMU's <c>tls-hostname</c>, matched
/// against its DNS names); null to match the address in the migration URI instead.
/// </param>
/// <param name="AcceptedSubjects">
/// At the target: the certificate subjects (as gnutls prints them, <see cref="QemuTlsSubject"/>) QEMU takes
/// a stream from, through an <c>authz-list</c> named by <c>tls-authz</c>; null or empty for any certificate
/// the CA issued.
/// </param>
public sealed record QemuMigrationTls(string CredentialsDirectory, string? TargetHostName = null, IReadOnlyList<string>? AcceptedSubjects = null)
{
    /// <summary>The QOM id of the credentials object; a QEMU is one migration's source or target at a time.</summary>
    public const string ObjectId = "ferry-migration-tls";

    /// <summary>The QOM id of the target's <c>authz-list</c> of accepted subjects.</summary>
    public const string AuthorizationObjectId = "ferry-migration-authz";

    /// <summary>Whether the target accepts only the subjects listed, not every certificate of the CA.</summary>
    public bool RestrictsPeers => AcceptedSubjects is { Count: > 0 };

    /// <summary>How the stream travels, for the transport's reason.</summary>
    public string Describe() => (TargetHostName, RestrictsPeers) switch
    {
        (not null, _) => $"QEMU's stream over TLS (tls-creds-x509, cluster CA, both certificates checked, the target's naming '{TargetHostName}')",
        (null, true) => $"QEMU's stream over TLS (tls-creds-x509, cluster CA, both certificates checked, the source's subject one of '{string.Join("', '", AcceptedSubjects!)}')",
        _ => "QEMU's stream over TLS (tls-creds-x509, cluster CA, both certificates checked)",
    };
}
