using System.Security.Cryptography;

namespace Ferry.Transfer.Protocol;

/// <summary>What binds a page stream to one migration: its id and a per-migration secret token.</summary>
public sealed class MigrationCredentials
{
    private readonly byte[] _token;

    /// <summary>Creates credentials from an id and a token of <see cref="WireFormat.TokenSize"/> bytes.</summary>
    /// <param name="migrationId">The migration id.</param>
    /// <param name="token">The secret token.</param>
    public MigrationCredentials(Guid migrationId, ReadOnlySpan<byte> token)
    {
        if (token.Length != WireFormat.TokenSize)
        {
            throw new ArgumentException($"Token must be {WireFormat.TokenSize} bytes.", nameof(token));
        }

        MigrationId = migrationId;
        _token = token.ToArray();
    }

    /// <summary>The migration id.</summary>
    public Guid MigrationId { get; }

    /// <summary>The token.</summary>
    public ReadOnlySpan<byte> Token => _token;

    /// <summary>New credentials with a random token.</summary>
    /// <param name="migrationId">The migration id.</param>
    public static MigrationCredentials CreateRandom(Guid migrationId) =>
        new(migrationId, RandomNumberGenerator.GetBytes(WireFormat.TokenSize));

    /// <summary>Checks presented credentials; the token compare takes the same time wherever it differs.</summary>
    /// <param name="migrationId">Presented id.</param>
    /// <param name="token">Presented token.</param>
    public ReceiveError Verify(Guid migrationId, ReadOnlySpan<byte> token)
    {
        bool tokenOk = CryptographicOperations.FixedTimeEquals(_token, token);
        if (migrationId != MigrationId)
        {
            return ReceiveError.WrongMigration;
        }

        return tokenOk ? ReceiveError.None : ReceiveError.WrongToken;
    }
}
