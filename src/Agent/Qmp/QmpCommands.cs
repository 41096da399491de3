using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Ferry.Agent.Qmp;

/// <summary>Typed QMP commands a migration needs, on top of <see cref="IQmpClient.ExecuteAsync(string, TimeSpan?, CancellationToken)"/>.</summary>
public static class QmpCommands
{
    public static async Task<RunState> QueryStatusAsync(this IQmpClient qmp, CancellationToken cancellationToken = default) =>
        Read(await qmp.ExecuteAsync("query-status", cancellationToken: cancellationToken), QmpJsonContext.Default.RunState, "query-status");

    /// <param name="qmp">The QEMU asked.</param>
    /// <param name="cancellationToken">Cancels the question.</param>
    /// <param name="timeout">Overrides the client's per-command timeout: during stop-and-copy QEMU answers only once the final copy is done.</param>
    public static async Task<MigrationInfo> QueryMigrateAsync(this IQmpClient qmp, CancellationToken cancellationToken = default, TimeSpan? timeout = null) =>
        Read(await qmp.ExecuteAsync("query-migrate", timeout, cancellationToken), QmpJsonContext.Default.MigrationInfo, "query-migrate");

    public static Task SetMigrationCapabilitiesAsync(this IQmpClient qmp, IReadOnlyList<MigrationCapability> capabilities, CancellationToken cancellationToken = default) =>
        qmp.ExecuteAsync(
            "migrate-set-capabilities",
            new MigrationCapabilitiesArguments(capabilities),
            QmpJsonContext.Default.MigrationCapabilitiesArguments,
            cancellationToken: cancellationToken);

    /// <summary>The migration parameters QEMU holds now (only the ones <see cref="MigrationParameters"/> names are read).</summary>
    public static async Task<MigrationParameters> QueryMigrationParametersAsync(this IQmpClient qmp, CancellationToken cancellationToken = default) =>
        Read(await qmp.ExecuteAsync("query-migrate-parameters", cancellationToken: cancellationToken), QmpJsonContext.Default.MigrationParameters, "query-migrate-parameters");

    public static Task SetMigrationParametersAsync(this IQmpClient qmp, MigrationParameters parameters, CancellationToken cancellationToken = default) =>
        qmp.ExecuteAsync("migrate-set-parameters", parameters, QmpJsonContext.Default.MigrationParameters, cancellationToken: cancellationToken);

    public static Task MigrateAsync(this IQmpClient qmp, MigrationUri destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return qmp.ExecuteAsync("migrate", new MigrationUriArguments(destination.Value), QmpJsonContext.Default.MigrationUriArguments, cancellationToken: cancellationToken);
    }

    public static Task MigrateIncomingAsync(this IQmpClient qmp, MigrationUri listen, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(listen);
        return qmp.ExecuteAsync("migrate-incoming", new MigrationUriArguments(listen.Value), QmpJsonContext.Default.MigrationUriArguments, cancellationToken: cancellationToken);
    }

    /// <summary>Lets a migration paused in <c>pre-switchover</c> (capability <c>pause-before-switchover</c>) finish.</summary>
    public static Task MigrateContinueAsync(this IQmpClient qmp, CancellationToken cancellationToken = default) =>
        qmp.ExecuteAsync("migrate-continue", new MigrateContinueArguments("pre-switchover"), QmpJsonContext.Default.MigrateContinueArguments, cancellationToken: cancellationToken);

    public static Task MigrateCancelAsync(this IQmpClient qmp, CancellationToken cancellationToken = default) =>
        qmp.ExecuteAsync("migrate_cancel", cancellationToken: cancellationToken);

    /// <summary>
    /// Creates a <c>tls-creds-x509</c> object over <paramref name="directory"/>; QEMU reads and checks the
    /// files now (as the user it runs as), so a missing or unreadable file fails this command.
    /// </summary>
    public static Task AddTlsCredentialsAsync(this IQmpClient qmp, string id, string directory, TlsEndpoint endpoint, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        return qmp.ExecuteAsync(
            "object-add",
            new TlsCredentialsObject(id, directory, endpoint == TlsEndpoint.Server ? "server" : "client", VerifyPeer: true),
            QmpJsonContext.Default.TlsCredentialsObject,
            cancellationToken: cancellationToken);
    }

    /// <summary>
    /// Creates an <c>authz-list</c> object that allows exactly <paramref name="identities"/> and denies everyone
    /// else; a migration's <c>tls-authz</c> names it to accept only those peers' certificates.
    /// </summary>
    public static Task AddAuthorizationListAsync(this IQmpClient qmp, string id, IEnumerable<string> identities, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(identities);
        return qmp.ExecuteAsync(
            "object-add",
            new AuthorizationListObject(id, [.. identities.Select(i => new AuthorizationRule(i))]),
            QmpJsonContext.Default.AuthorizationListObject,
            cancellationToken: cancellationToken);
    }

    public static Task DeleteObjectAsync(this IQmpClient qmp, string id, CancellationToken cancellationToken = default) =>
        qmp.ExecuteAsync("object-del", new ObjectIdArguments(id), QmpJsonContext.Default.ObjectIdArguments, cancellationToken: cancellationToken);

    public static Task ContAsync(this IQmpClient qmp, CancellationToken cancellationToken = default) =>
        qmp.ExecuteAsync("cont", cancellationToken: cancellationToken);

    public static Task StopAsync(this IQmpClient qmp, CancellationToken cancellationToken = default) =>
        qmp.ExecuteAsync("stop", cancellationToken: cancellationToken);

    public static Task QuitAsync(this IQmpClient qmp, CancellationToken cancellationToken = default) =>
        qmp.ExecuteAsync("quit", cancellationToken: cancellationToken);

    private static T Read<T>(JsonElement answer, JsonTypeInfo<T> type, string command)
    {
        try
        {
            return answer.Deserialize(type)
                ?? throw new QmpException(QmpFailure.ProtocolViolation, $"'{command}' returned null.") { Command = command };
        }
        catch (JsonException ex)
        {
            throw new QmpException(QmpFailure.ProtocolViolation, $"'{command}' returned an answer of the wrong shape: {ex.Message}", ex) { Command = command };
        }
    }
}
