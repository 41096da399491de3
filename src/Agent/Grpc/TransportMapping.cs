using Ferry.Contracts;
using TransportKind = Ferry.Domain.Migrations.TransportKind;

namespace Ferry.Agent.Grpc;

/// <summary>
/// The agent's one translation between the Domain's <see cref="TransportKind"/> and the contract's <see cref="Transport"/>
/// (its wire spelling, kept for the proto's sake); the API's counterpart is <c>Ferry.Api.Agents.ProtoMapping</c>.
/// </summary>
internal static class TransportMapping
{
    /// <summary>What a request's policy asks for; absent or unspecified is auto.</summary>
    public static TransportKind ToKind(Transport? transport) => transport switch
    {
        Transport.Qemu => TransportKind.Qemu,
        Transport.Native => TransportKind.Native,
        _ => TransportKind.Auto,
    };

    /// <summary>A transport in the contract's terms (a result's is always qemu or native).</summary>
    public static Transport ToProto(TransportKind kind) => kind switch
    {
        TransportKind.Qemu => Transport.Qemu,
        TransportKind.Native => Transport.Native,
        _ => Transport.Auto,
    };
}
