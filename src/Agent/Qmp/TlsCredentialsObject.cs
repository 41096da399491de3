using System.Text.Json.Serialization;

namespace Ferry.Agent.Qmp;

/// <summary>
/// Arguments of <c>object-add</c> for QEMU's <c>tls-creds-x509</c>: the directory QEMU reads
/// <c>ca-cert.pem</c> and this end's certificate and key from, which end of the TLS session it is,
/// and that the peer's certificate is checked against that CA.
/// </summary>
internal sealed record TlsCredentialsObject(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("dir")] string Directory,
    [property: JsonPropertyName("endpoint")] string Endpoint,
    [property: JsonPropertyName("verify-peer")] bool VerifyPeer)
{
    [JsonPropertyName("qom-type")]
    public string QomType => "tls-creds-x509";
}
