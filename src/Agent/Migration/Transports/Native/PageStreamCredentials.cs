using System.Security.Cryptography;
using System.Text;
using Ferry.Transfer.Protocol;
using Ferry.Agent.Migration;

namespace Ferry.Agent.Migration.Transports.Native;

/// <summary>
/// What binds the engine's page streams to one migration: the migration id as the engine's GUID
/// and a 32-byte secret token that travels only in the agents' gRPC calls, never on the page stream.
/// </summary>
public static class PageStreamCredentials
{
    public const int TokenSize = WireFormat.TokenSize;

    public static byte[] NewToken() => RandomNumberGenerator.GetBytes(TokenSize);

    /// <summary>A token from a request: empty means "none given", any other length is refused.</summary>
    public static byte[]? Validate(ReadOnlySpan<byte> token, string field) => token.Length switch
    {
        0 => null,
        TokenSize => token.ToArray(),
        _ => throw new ArgumentException($"{field} must be {TokenSize} bytes; got {token.Length}.", nameof(token)),
    };

    /// <summary>The API's ids are GUIDs; any other valid id maps to a GUID derived from it, the same at both ends.</summary>
    /// <param name="migrationId">The migration's id.</param>
    /// <param name="token">Its secret.</param>
    /// <param name="source">For a receiver: the only address a page stream may come from; null takes any (the token still decides).</param>
    public static MigrationCredentials For(string migrationId, byte[] token, System.Net.IPAddress? source = null)
    {
        MigrationId.Validate(migrationId);
        var id = Guid.TryParse(migrationId, out var guid)
            ? guid
            : new Guid(SHA256.HashData(Encoding.UTF8.GetBytes(migrationId)).AsSpan(0, 16));
        return new MigrationCredentials(id, token) { Source = source };
    }
}
