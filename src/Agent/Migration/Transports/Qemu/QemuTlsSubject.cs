using System.Security.Cryptography.X509Certificates;

namespace Ferry.Agent.Migration.Transports.Qemu;

/// <summary>
/// The cluster's host certificate subjects as QEMU's <c>tls-authz</c> compares them. QEMU 7.2 asks gnutls
/// for the peer certificate's distinguished name (<c>gnutls_x509_crt_get_dn</c>) and matches that string
/// exactly; gnutls 3.7 prints the name's parts in the certificate's own order, comma-separated, without
/// spaces. For credentials.sh's <c>-subj /O=Ferry/CN=host-a</c>, QEMU 7.2.22 with libgnutls30 3.7.9 logs
/// "TLS x509 authz check for O=Ferry,CN=host-a is denied" (openssl's RFC 2253 form reverses it, .NET's adds spaces).
/// Host certificates differ in their common name alone, which names the host (credentials.sh, TestPki), so
/// another host's subject is this host's with that name replaced.
/// </summary>
internal sealed class QemuTlsSubject
{
    /// <summary>The attribute names gnutls prints for the parts a cluster's subject is made of.</summary>
    private static readonly Dictionary<string, string> Names = new(StringComparer.Ordinal)
    {
        ["2.5.4.3"] = "CN",
        ["2.5.4.6"] = "C",
        ["2.5.4.7"] = "L",
        ["2.5.4.8"] = "ST",
        ["2.5.4.10"] = "O",
        ["2.5.4.11"] = "OU",
        ["0.9.2342.19200300.100.1.25"] = "DC",
    };

    private const string CommonNameOid = "2.5.4.3";

    private readonly string[] _parts;
    private readonly int _commonName;

    private QemuTlsSubject(string[] parts, int commonName)
    {
        _parts = parts;
        _commonName = commonName;
    }

    /// <summary>
    /// This host's subject, whose one common name must be <paramref name="hostName"/> (when known); null
    /// with the reason when the subject names no host, or holds what Ferry cannot print exactly as gnutls
    /// does (several attributes in one part, other attributes, characters gnutls escapes).
    /// </summary>
    public static QemuTlsSubject? TryParse(X500DistinguishedName subject, string? hostName, out string why)
    {
        ArgumentNullException.ThrowIfNull(subject);
        var parts = new List<string>();
        var commonName = -1;
        foreach (var part in subject.EnumerateRelativeDistinguishedNames(reversed: false))
        {
            if (part.HasMultipleElements)
            {
                why = $"its subject '{subject.Name}' has a part with several attributes";
                return null;
            }

            var type = part.GetSingleElementType().Value ?? string.Empty;
            var value = part.GetSingleElementValue();
            if (!Names.TryGetValue(type, out var name))
            {
                why = $"its subject '{subject.Name}' holds an attribute other than CN, O, OU, C, L, ST, DC ({type})";
                return null;
            }

            if (value is null || !IsPlain(value))
            {
                why = $"its subject '{subject.Name}' holds a value gnutls would escape or cannot read as text ({name})";
                return null;
            }

            if (type == CommonNameOid)
            {
                if (commonName >= 0)
                {
                    why = $"its subject '{subject.Name}' has more than one common name";
                    return null;
                }

                commonName = parts.Count;
                if (hostName is not null && !string.Equals(value, hostName, StringComparison.Ordinal))
                {
                    why = $"its subject's common name is '{value}', not the host's name '{hostName}'";
                    return null;
                }
            }

            parts.Add($"{name}={value}");
        }

        if (commonName < 0)
        {
            why = $"its subject '{subject.Name}' has no common name (CN=<host>)";
            return null;
        }

        why = string.Empty;
        return new QemuTlsSubject([.. parts], commonName);
    }

    /// <summary>This subject as gnutls prints it.</summary>
    public string Printed => string.Join(',', _parts);

    /// <summary>The subject <paramref name="host"/>'s certificate carries, as gnutls prints it.</summary>
    public string ForHost(string host)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        if (!IsPlain(host))
        {
            throw new ArgumentException($"'{host}' cannot be a common name QEMU's tls-authz matches exactly.", nameof(host));
        }

        var parts = (string[])_parts.Clone();
        parts[_commonName] = "CN=" + host;
        return string.Join(',', parts);
    }

    /// <summary>
    /// Text gnutls prints as it is: no character it escapes (<c>,+"\&lt;&gt;;=#</c>, controls, non-ASCII), no
    /// space at either end. Narrower than what gnutls leaves alone, never wider.
    /// </summary>
    private static bool IsPlain(string value) =>
        value.Length > 0 && value[0] != ' ' && value[^1] != ' '
        && value.All(c => char.IsAsciiLetterOrDigit(c) || c is ' ' or '-' or '.' or '_');
}
