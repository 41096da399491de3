using System.Text.Json.Serialization;

namespace Ferry.Agent.Qmp;

/// <summary>
/// Arguments of <c>object-add</c> for QEMU's <c>authz-list</c>: identities (for a TLS server, the peer
/// certificate's distinguished name as gnutls prints it) matched exactly and allowed, everyone else denied.
/// </summary>
internal sealed record AuthorizationListObject(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("rules")] IReadOnlyList<AuthorizationRule> Rules)
{
    [JsonPropertyName("qom-type")]
    public string QomType => "authz-list";

    [JsonPropertyName("policy")]
    public string Policy => "deny";
}

/// <summary>One rule of an <c>authz-list</c>: this identity, exactly, is allowed.</summary>
internal sealed record AuthorizationRule([property: JsonPropertyName("match")] string Match)
{
    [JsonPropertyName("policy")]
    public string Policy => "allow";

    [JsonPropertyName("format")]
    public string Format => "exact";
}
