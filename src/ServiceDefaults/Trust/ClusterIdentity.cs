using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;

namespace Ferry.ServiceDefaults.Trust;

/// <summary>
/// How a cluster certificate names its holder: a URI in its subject alternative names, SPIFFE-style,
/// <c>spiffe://ferry/api</c> or <c>spiffe://ferry/host/&lt;host&gt;</c> (scripts/credentials.sh
/// issues them). Addresses in the certificate are for TLS clients' own checks; who may do what is
/// decided by this name alone.
/// </summary>
public static partial class ClusterIdentity
{
    public const string ApiUri = "spiffe://ferry/api";

    public const string HostUriPrefix = "spiffe://ferry/host/";

    private const string SubjectAlternativeNameOid = "2.5.29.17";

    /// <summary>The URI that names <paramref name="peer"/> in its certificate.</summary>
    public static string UriOf(ClusterPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        return peer.Role == ClusterRole.Api ? ApiUri : HostUriPrefix + peer.HostName;
    }

    /// <summary>
    /// Reads the one Ferry identity <paramref name="certificate"/> carries; null (with the reason)
    /// when it carries none, several, or a host name that is not a valid host name.
    /// </summary>
    public static ClusterPeer? Read(X509Certificate2 certificate, out string? why)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var names = new List<ClusterPeer>();
        foreach (var uri in SubjectAlternativeUris(certificate))
        {
            if (uri == ApiUri)
            {
                names.Add(ClusterPeer.Api);
            }
            else if (uri.StartsWith(HostUriPrefix, StringComparison.Ordinal))
            {
                var host = uri[HostUriPrefix.Length..];
                if (!HostName().IsMatch(host))
                {
                    why = $"its host name '{host}' is not [a-z0-9-]{{1,63}}";
                    return null;
                }

                names.Add(ClusterPeer.Host(host));
            }
        }

        why = names.Count switch
        {
            0 => $"it names no Ferry identity ({ApiUri} or {HostUriPrefix}<host> as a subject alternative name)",
            > 1 => "it names more than one Ferry identity",
            _ => null,
        };
        return why is null ? names[0] : null;
    }

    /// <summary>The URIs among the subject alternative names (the BCL reads DNS names and addresses, not URIs).</summary>
    public static IReadOnlyList<string> SubjectAlternativeUris(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var uris = new List<string>();
        if (certificate.Extensions[SubjectAlternativeNameOid] is not { } extension)
        {
            return uris;
        }

        try
        {
            var names = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
            var uriTag = new Asn1Tag(TagClass.ContextSpecific, 6);
            while (names.HasData)
            {
                if (names.PeekTag().HasSameClassAndValue(uriTag))
                {
                    uris.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, uriTag));
                }
                else
                {
                    names.ReadEncodedValue();
                }
            }
        }
        catch (AsnContentException)
        {
            uris.Clear();
        }

        return uris;
    }

    [GeneratedRegex("^[a-z0-9-]{1,63}$")]
    private static partial Regex HostName();
}
