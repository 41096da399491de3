namespace Ferry.ServiceDefaults.Trust;

/// <summary>
/// Mutual TLS between the API and the agents and between agents, section <c>Ferry:Tls</c> (in the
/// API and in every agent): PEM files made by scripts/credentials.sh, or mounted from secrets.
/// </summary>
public sealed class ClusterTlsOptions
{
    public const string Section = "Ferry:Tls";

    /// <summary>The cluster CA's certificate: the only issuer trusted for peers.</summary>
    public string? CaFile { get; set; }

    /// <summary>This part's certificate (it must name this part: the API, or this agent's host).</summary>
    public string? CertificateFile { get; set; }

    /// <summary>Its private key (PEM, readable by this part's user only).</summary>
    public string? KeyFile { get; set; }

    /// <summary>
    /// Lets the part run its agent-facing gRPC without TLS, accepting any caller, when no files are
    /// configured. Off by default: without certificates a part refuses to start. For tests only.
    /// </summary>
    public bool AllowInsecure { get; set; }

    /// <summary>Whether any of the files is configured (then all three must be).</summary>
    public bool IsConfigured => !string.IsNullOrWhiteSpace(CaFile) || !string.IsNullOrWhiteSpace(CertificateFile) || !string.IsNullOrWhiteSpace(KeyFile);

    /// <summary>What is wrong with the configuration for a part that must be <paramref name="self"/>; null when it is usable.</summary>
    public string? Problem(ClusterPeer self)
    {
        ArgumentNullException.ThrowIfNull(self);
        if (!IsConfigured)
        {
            return AllowInsecure
                ? null
                : $"No cluster certificates are configured ({Section}:CaFile, CertificateFile, KeyFile; scripts/credentials.sh makes them): "
                    + $"set them, or set {Section}:AllowInsecure=true to accept unauthenticated callers (tests only).";
        }

        if (string.IsNullOrWhiteSpace(CaFile) || string.IsNullOrWhiteSpace(CertificateFile) || string.IsNullOrWhiteSpace(KeyFile))
        {
            return $"{Section} needs CaFile, CertificateFile and KeyFile together.";
        }

        try
        {
            using var trust = ClusterTrust.Load(this);
            return trust.Self == self ? null : $"{Section}:CertificateFile '{CertificateFile}' names {trust.Self}, but this is {self}.";
        }
        catch (InvalidOperationException e)
        {
            return e.Message;
        }
    }
}
