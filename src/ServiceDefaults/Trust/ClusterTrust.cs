using System.Collections.Concurrent;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Ferry.ServiceDefaults.Trust;

/// <summary>
/// This part's certificate and the cluster CA: authenticates peers (a chain to the CA, the right
/// key usage, one Ferry identity) and sets up TLS for Kestrel and for gRPC clients. The system's
/// trust store plays no part: only the cluster CA vouches for a peer.
/// </summary>
public sealed class ClusterTrust : IDisposable
{
    private const string ServerAuth = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuth = "1.3.6.1.5.5.7.3.2";
    private const int MaxRemembered = 1024;

    private readonly X509Certificate2 _ca;
    private readonly ConcurrentDictionary<(string Thumbprint, string Usage), (ClusterPeer Peer, DateTime NotAfter)> _authenticated = new();

    private ClusterTrust(X509Certificate2 ca, X509Certificate2 certificate, ClusterPeer self)
    {
        _ca = ca;
        Certificate = certificate;
        Self = self;
    }

    /// <summary>This part's own certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Who this part is, as its certificate names it.</summary>
    public ClusterPeer Self { get; }

    /// <summary>Loads and checks the files; an <see cref="InvalidOperationException"/> says what is wrong with them.</summary>
    public static ClusterTrust Load(ClusterTlsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        X509Certificate2 ca, certificate;
        try
        {
            ca = X509CertificateLoader.LoadCertificateFromFile(options.CaFile!);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new InvalidOperationException($"{ClusterTlsOptions.Section}:CaFile '{options.CaFile}' holds no certificate: {e.Message}", e);
        }

        try
        {
            certificate = X509Certificate2.CreateFromPemFile(options.CertificateFile!, options.KeyFile);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            ca.Dispose();
            throw new InvalidOperationException(
                $"{ClusterTlsOptions.Section}:CertificateFile '{options.CertificateFile}' with KeyFile '{options.KeyFile}' is no certificate with its key: {e.Message}", e);
        }

        var probe = new ClusterTrust(ca, certificate, ClusterPeer.Api);
        if (probe.Authenticate(certificate, ClientAuth, out var why) is not { } self)
        {
            probe.Dispose();
            throw new InvalidOperationException($"{ClusterTlsOptions.Section}:CertificateFile '{options.CertificateFile}' cannot be used with CaFile '{options.CaFile}': {why}.");
        }

        return new ClusterTrust(ca, certificate, self);
    }

    /// <summary>Who presented <paramref name="certificate"/> as a TLS client; null (with the reason) when the cluster does not vouch for it.</summary>
    public ClusterPeer? AuthenticateClient(X509Certificate2? certificate, out string? why) => Authenticate(certificate, ClientAuth, out why);

    /// <summary>Who presented <paramref name="certificate"/> as a TLS server; null (with the reason) when the cluster does not vouch for it.</summary>
    public ClusterPeer? AuthenticateServer(X509Certificate2? certificate, out string? why) => Authenticate(certificate, ServerAuth, out why);

    /// <summary>Kestrel: this certificate, TLS 1.2+, and a client certificate the cluster vouches for on every connection.</summary>
    public void ConfigureServer(HttpsConnectionAdapterOptions https)
    {
        ArgumentNullException.ThrowIfNull(https);
        https.ServerCertificate = Certificate;
        https.SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13;
        https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
        https.CheckCertificateRevocation = false;
        https.ClientCertificateValidation = (certificate, _, _) => AuthenticateClient(certificate, out _) is not null;
    }

    /// <summary>
    /// An HTTP/2 handler that presents this certificate and accepts only a server the cluster
    /// vouches for and <paramref name="accept"/> approves (the API, or an agent).
    /// </summary>
    public SocketsHttpHandler CreateClientHandler(Func<ClusterPeer, bool> accept)
    {
        ArgumentNullException.ThrowIfNull(accept);
        return new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,

            // A peer behind a cut link never closes its connection: without pings the next call waits on it until
            // its deadline (the fault suite's next migration after a link cut failed its 2 s switch-over check so).
            // Pinged every 5 s, a dead connection is dropped within 10 s and the next call dials afresh.
            KeepAlivePingDelay = TimeSpan.FromSeconds(5),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(5),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [Certificate],
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,

                // Who the server is comes from its Ferry identity, not from the address dialled.
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is X509Certificate2 server && AuthenticateServer(server, out _) is { } peer && accept(peer),
            },
        };
    }

    public void Dispose()
    {
        Certificate.Dispose();
        _ca.Dispose();
    }

    private ClusterPeer? Authenticate(X509Certificate2? certificate, string usage, out string? why)
    {
        if (certificate is null)
        {
            why = "no certificate was presented";
            return null;
        }

        var now = DateTime.UtcNow;
        var key = (certificate.GetCertHashString(HashAlgorithmName.SHA256), usage);
        if (_authenticated.TryGetValue(key, out var known) && known.NotAfter > now)
        {
            why = null;
            return known.Peer;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid(usage));
        if (!chain.Build(certificate))
        {
            why = "it is not issued by the cluster CA for this use, or not valid now ("
                + string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0)) + ")";
            return null;
        }

        if (ClusterIdentity.Read(certificate, out why) is not { } peer)
        {
            return null;
        }

        if (_authenticated.Count >= MaxRemembered)
        {
            _authenticated.Clear();
        }

        _authenticated[key] = (peer, certificate.NotAfter.ToUniversalTime());
        return peer;
    }
}
