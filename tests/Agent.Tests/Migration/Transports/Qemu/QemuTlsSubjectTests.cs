using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Ferry.Agent.Migration.Transports.Qemu;
using Ferry.Agent.Tests.Support;
using Ferry.Testing;

namespace Ferry.Agent.Tests.Migration.Transports.Qemu;

/// <summary>
/// How the target agent names the source host's certificate subject for QEMU's tls-authz: as gnutls prints
/// it (the certificate's order, commas, no spaces), from certificates made by credentials.sh itself and by
/// TestPki; anything Ferry cannot print exactly is refused with the reason. That gnutls agrees is shown on
/// real QEMU by QemuMigrationTlsTests (the source gets in, another host does not).
/// </summary>
[Trait("Tier", "fast")]
public sealed class QemuTlsSubjectTests
{
    private static X500DistinguishedName Subject(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = new CertificateRequest(name, key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
        return certificate.SubjectName;
    }

    [Fact]
    public async Task The_subject_of_a_host_certificate_credentials_sh_issued_is_printed_in_its_own_order_and_names_another_host()
    {
        using var directory = new TestDirectory();
        await Scripts.RunAsync("credentials.sh", null, directory.Path, "127.0.0.1", "host-a=127.0.0.1");
        using var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(directory.Path, "pki", "host-a.crt")));

        var subject = QemuTlsSubject.TryParse(certificate.SubjectName, "host-a", out var why);

        Assert.True(subject is not null, why);
        Assert.Equal("O=Ferry,CN=host-a", subject.Printed);
        Assert.Equal("O=Ferry,CN=host-b", subject.ForHost("host-b"));
    }

    [Fact]
    public void A_test_pki_host_certificate_has_the_subject_credentials_sh_gives()
    {
        using var pki = new TestPki();
        using var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(pki.Host("host-a").Certificate));

        Assert.Equal("O=Ferry,CN=host-a", QemuTlsSubject.TryParse(certificate.SubjectName, "host-a", out _)?.Printed);
    }

    [Fact]
    public void A_subject_whose_common_name_is_not_the_host_is_refused_with_both_names()
    {
        Assert.Null(QemuTlsSubject.TryParse(Subject("CN=ferry-test, O=Ferry"), "host-a", out var why));
        Assert.Contains("'ferry-test'", why, StringComparison.Ordinal);
        Assert.Contains("'host-a'", why, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("O=Ferry", "no common name")]
    [InlineData("CN=host-a, CN=host-b", "more than one common name")]
    [InlineData("CN=host-a, O=\"Ferry, Inc\"", "escape")]
    [InlineData("CN=host-a, O=\"Ferry+Ops\"", "escape")]
    [InlineData("CN=host-a, E=ops@example.com", "attribute other than")]
    public void A_subject_ferry_cannot_print_as_gnutls_does_is_refused_with_the_reason(string name, string reason)
    {
        Assert.Null(QemuTlsSubject.TryParse(Subject(name), null, out var why));
        Assert.Contains(reason, why, StringComparison.Ordinal);
    }

    [Fact]
    public void Other_parts_of_the_subject_are_kept_in_the_certificate_s_order()
    {
        var subject = QemuTlsSubject.TryParse(Subject("CN=host-a, OU=Compute, O=Ferry, C=DE"), "host-a", out var why);

        Assert.True(subject is not null, why);
        Assert.Equal("C=DE,O=Ferry,OU=Compute,CN=host-c", subject.ForHost("host-c"));
    }
}
