using Ferry.Agent.Qmp;
using Microsoft.Extensions.Logging;

namespace Ferry.Agent.Migration.Transports.Qemu;

/// <summary>QEMU's TLS for the qemu transport: the credentials object in and out of a QEMU, around one migration.</summary>
internal sealed partial class QemuMigration
{
    public async Task DropTlsAsync(IQmpClient qemu, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(qemu);
        try
        {
            await qemu.SetMigrationParametersAsync(new MigrationParameters { TlsCreds = string.Empty, TlsHostname = string.Empty }, cancellationToken);
            await DeleteTlsObjectsAsync(qemu, cancellationToken);
        }
        catch (Exception ex) when (ex is QmpException or OperationCanceledException)
        {
            // Gone or wedged: the next migration sets its own, and a QEMU that exits takes the key with it.
            Log.TlsNotDropped(logger, ex.Message);
        }
    }

    /// <summary>
    /// Loads the credentials into QEMU for this migration (QEMU reads the files now, as its own user), and at
    /// a target the list of certificate subjects it takes a stream from. Objects left from an earlier
    /// migration (a guest that arrived over TLS) are replaced: they may be the other end's.
    /// </summary>
    private static async Task ArmTlsAsync(IQmpClient qemu, QemuMigrationTls? tls, TlsEndpoint endpoint, CancellationToken cancellationToken)
    {
        if (tls is null)
        {
            return;
        }

        await DeleteTlsObjectsAsync(qemu, cancellationToken);
        if (endpoint == TlsEndpoint.Server && tls.RestrictsPeers)
        {
            // Checked after the CA's signature, on the main channel and each multifd channel: another host's
            // certificate fails its handshake and QEMU goes on waiting, as for a stranger's.
            await qemu.AddAuthorizationListAsync(QemuMigrationTls.AuthorizationObjectId, tls.AcceptedSubjects!, cancellationToken);
        }

        try
        {
            await qemu.AddTlsCredentialsAsync(QemuMigrationTls.ObjectId, tls.CredentialsDirectory, endpoint, cancellationToken);
        }
        catch (QmpException ex) when (ex.Failure == QmpFailure.CommandFailed)
        {
            throw new QmpException(
                QmpFailure.CommandFailed,
                $"QEMU could not load the migration TLS credentials in {tls.CredentialsDirectory}: {ex.Message} (QEMU reads them as the user it runs as, Ferry:Qemu:RunAs; every directory above must let that user through)",
                ex)
            { Command = ex.Command };
        }
    }

    private static async Task DeleteTlsObjectsAsync(IQmpClient qemu, CancellationToken cancellationToken)
    {
        foreach (var id in (string[])[QemuMigrationTls.ObjectId, QemuMigrationTls.AuthorizationObjectId])
        {
            try
            {
                await qemu.DeleteObjectAsync(id, cancellationToken);
            }
            catch (QmpException ex) when (ex.Failure == QmpFailure.CommandFailed)
            {
                // There was none.
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = AgentEventIds.QemuMigrationTlsNotDropped, Level = LogLevel.Warning, Message = "QEMU's migration TLS credentials could not be removed: {Reason}")]
        public static partial void TlsNotDropped(ILogger logger, string reason);
    }
}
