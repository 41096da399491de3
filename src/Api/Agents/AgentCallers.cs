using Ferry.ServiceDefaults.Trust;
using Grpc.Core;

namespace Ferry.Api.Agents;

/// <summary>
/// Who called the agent-facing gRPC service, from the client certificate of the connection, and the
/// rules of what each caller may do: an agent speaks only for the host its certificate names.
/// Without cluster TLS (<c>Ferry:Tls:AllowInsecure</c>, tests only) every caller is taken at its word.
/// </summary>
internal sealed class AgentCallers(IServiceProvider services)
{
    private readonly ClusterTrust? _trust = services.GetService<ClusterTrust>();

    /// <summary>The host the caller speaks for; throws <see cref="RpcException"/> for a caller that is not the agent of <paramref name="host"/>.</summary>
    public void RequireHost(ServerCallContext context, string host, string what)
    {
        if (Authenticate(context) is { } peer && !peer.IsHost(host))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"{peer} may not {what} for host '{host}'"));
        }
    }

    /// <summary>The authenticated caller; null when the API runs without cluster TLS.</summary>
    public ClusterPeer? Authenticate(ServerCallContext context)
    {
        if (_trust is null)
        {
            return null;
        }

        var certificate = context.GetHttpContext().Connection.ClientCertificate;
        if (_trust.AuthenticateClient(certificate, out var why) is not { } peer)
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, $"The caller is not an agent of this cluster: {why}."));
        }

        return peer.Role == ClusterRole.Host
            ? peer
            : throw new RpcException(new Status(StatusCode.PermissionDenied, $"{peer} is not an agent"));
    }
}
