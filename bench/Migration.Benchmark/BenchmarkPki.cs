using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Ferry.Migration.Benchmark;

/// <summary>
/// A throwaway cluster CA and one host certificate, shaped as scripts/credentials.sh makes them (EC
/// P-256, server and client use, the host as a SPIFFE-style URI, a DNS name and its address), written
/// as PEM under the run directory for the agent's own QEMU TLS credentials. Both QEMUs of a run present it.
/// </summary>
internal sealed class BenchmarkPki
{
    /// <summary>The name the target's certificate carries; the source's QEMU checks it (tls-hostname).</summary>
    public const string HostName = "bench-target";

    private BenchmarkPki(string caFile, string certificateFile, string keyFile)
    {
        CaFile = caFile;
        CertificateFile = certificateFile;
        KeyFile = keyFile;
    }

    public string CaFile { get; }

    public string CertificateFile { get; }

    public string KeyFile { get; }

    public static BenchmarkPki Create(string directory, IPAddress targetAddress)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("The benchmark runs QEMU and the engine on Linux only.");
        }

        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("O=Ferry, CN=Ferry benchmark CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"O=Ferry, CN={HostName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddUri(new Uri("spiffe://ferry/host/" + HostName));
        names.AddDnsName(HostName);
        names.AddIpAddress(targetAddress);
        request.CertificateExtensions.Add(names.Build());
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var certificate = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), serial);

        var pki = new BenchmarkPki(Path.Combine(directory, "ca.crt"), Path.Combine(directory, HostName + ".crt"), Path.Combine(directory, HostName + ".key"));
        File.WriteAllText(pki.CaFile, ca.ExportCertificatePem());
        File.WriteAllText(pki.CertificateFile, certificate.ExportCertificatePem());
        File.WriteAllText(pki.KeyFile, key.ExportPkcs8PrivateKeyPem());
        File.SetUnixFileMode(pki.KeyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return pki;
    }
}
