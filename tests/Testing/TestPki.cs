using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Ferry.Testing;

/// <summary>
/// A cluster CA and certificates as scripts/credentials.sh makes them (EC P-256, a SPIFFE-style URI
/// naming the holder), made in-process with .NET's CertificateRequest so a test can also make what
/// the script never would: another CA, a certificate without a Ferry name. PEM files in a private
/// directory, removed on dispose.
/// </summary>
public sealed class TestPki : IDisposable
{
    private readonly ECDsa _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public TestPki(string caName = "Ferry test CA")
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("ferry-pki").FullName;
        var request = new CertificateRequest($"CN={caName}", _caKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        Ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(30));
        CaFile = Path.Combine(Directory, "ca.crt");
        File.WriteAllText(CaFile, Ca.ExportCertificatePem());
    }

    public string Directory { get; }

    public X509Certificate2 Ca { get; }

    public string CaFile { get; }

    /// <summary>The API's certificate files.</summary>
    public (string Certificate, string Key) Api() => Issue("api", "spiffe://ferry/api", IPAddress.Loopback);

    /// <summary>
    /// A host agent's certificate files; like credentials.sh's, its subject is O=Ferry, CN=the host (QEMU's
    /// tls-authz matches that) and it names the host as a DNS name too (QEMU's tls-hostname checks that).
    /// </summary>
    public (string Certificate, string Key) Host(string host, IPAddress? address = null) =>
        Issue(host, $"spiffe://ferry/host/{host}", address ?? IPAddress.Loopback, host, HostSubject(host));

    /// <summary>The subject credentials.sh gives a host's certificate (<c>-subj /O=Ferry/CN=host</c>), in .NET's notation.</summary>
    public static string HostSubject(string host) => $"CN={host}, O=Ferry";

    /// <summary>A certificate (with its key) for <paramref name="uri"/>, or with no URI at all.</summary>
    public X509Certificate2 Certificate(string? uri, IPAddress? address = null, string? dnsName = null, string subject = "CN=ferry-test")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(address ?? IPAddress.Loopback);
        if (dnsName is not null)
        {
            names.AddDnsName(dnsName);
        }

        if (uri is not null)
        {
            names.AddUri(new Uri(uri));
        }

        request.CertificateExtensions.Add(names.Build());
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var issued = request.Create(Ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(7), serial);
        return issued.CopyWithPrivateKey(key);
    }

    public void Dispose()
    {
        _caKey.Dispose();
        Ca.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private (string Certificate, string Key) Issue(string name, string uri, IPAddress address, string? dnsName = null, string subject = "CN=ferry-test")
    {
        using var certificate = Certificate(uri, address, dnsName, subject);
        var crt = Path.Combine(Directory, name + ".crt");
        var key = Path.Combine(Directory, name + ".key");
        File.WriteAllText(crt, certificate.ExportCertificatePem());
        File.WriteAllText(key, certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return (crt, key);
    }
}
