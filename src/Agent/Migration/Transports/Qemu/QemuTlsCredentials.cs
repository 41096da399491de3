using System.Globalization;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Ferry.Agent.Qemu;
using Ferry.ServiceDefaults.Trust;
using Microsoft.Extensions.Logging;

namespace Ferry.Agent.Migration.Transports.Qemu;

/// <summary>
/// Writes the agent's cluster files (<c>Ferry:Tls</c>) where QEMU's <c>tls-creds-x509</c> reads them:
/// one directory per host, <c>&lt;Ferry:Qemu:RunDirectory&gt;/migration.tls</c> (a name no instance can have),
/// mode 0700 with every file 0600, owned by the user QEMU runs as (<c>Ferry:Qemu:RunAs</c>, else the agent's).
/// QEMU loads them with <c>object-add</c> when a migration starts, not at its launch: a guest outlives
/// certificates (90 days) and agent restarts, and a QEMU that is not migrating holds no key.
/// </summary>
internal sealed partial class QemuTlsCredentials(ClusterTlsOptions tls, QemuLauncherOptions qemu, ClusterTrust? trust, ILogger<QemuTlsCredentials> logger)
    : IQemuTlsCredentials, IDisposable
{
    /// <summary>The credentials directory's name under <c>Ferry:Qemu:RunDirectory</c>; the dot keeps it apart from instance directories.</summary>
    public const string DirectoryName = "migration.tls";

    private static readonly TimeSpan ChownTimeout = TimeSpan.FromSeconds(10);

    private readonly Lock _writing = new();
    private QemuMigrationTls? _written;
    private QemuTlsSubject? _subject;

    public bool Enabled => tls.IsConfigured;

    public string PlainReason => "QEMU's stream in plain TCP: this agent has no cluster certificate (Ferry:Tls)";

    /// <summary>Where QEMU reads the credentials.</summary>
    public string Directory => Path.Combine(qemu.RunDirectory, DirectoryName);

    public QemuMigrationTls? ForSource(string? targetHost)
    {
        var written = Written();
        return written is null || string.IsNullOrEmpty(targetHost) ? written : written with { TargetHostName = ResourceName.Validate(targetHost, "target host") };
    }

    public QemuMigrationTls? ForTarget(string sourceHost, bool acceptThisHost = false)
    {
        ResourceName.Validate(sourceHost, "source host");
        if (Written() is not { } written)
        {
            return null;
        }

        var subject = OwnSubject();
        var sourceSubject = subject.ForHost(sourceHost);
        string[] accepted = acceptThisHost && !string.Equals(sourceSubject, subject.Printed, StringComparison.Ordinal) ? [sourceSubject, subject.Printed] : [sourceSubject];
        return written with { AcceptedSubjects = accepted };
    }

    public SslClientAuthenticationOptions? LocalClient()
    {
        if (!Enabled || trust is null)
        {
            return null;
        }

        return new SslClientAuthenticationOptions
        {
            TargetHost = trust.Self.HostName,
            ClientCertificates = [trust.Certificate],
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,

            // The QEMU listening here presents this host's own certificate.
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                certificate is X509Certificate2 server && trust.AuthenticateServer(server, out _) == trust.Self,
        };
    }

    private QemuMigrationTls? Written()
    {
        if (!Enabled)
        {
            return null;
        }

        lock (_writing)
        {
            return _written ??= Write();
        }
    }

    /// <summary>This host's certificate subject, from which the other hosts' are named; read once.</summary>
    private QemuTlsSubject OwnSubject()
    {
        lock (_writing)
        {
            if (_subject is { } known)
            {
                return known;
            }

            X509Certificate2 certificate;
            try
            {
                certificate = X509Certificate2.CreateFromPem(File.ReadAllText(tls.CertificateFile!));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
            {
                throw new IOException($"Cannot read this host's certificate {tls.CertificateFile}: {ex.Message}", ex);
            }

            using (certificate)
            {
                // The agent's identity (its SPIFFE URI) names the host; without it (tests) the common name is taken as it is.
                var parsed = QemuTlsSubject.TryParse(certificate.SubjectName, trust?.Self.HostName, out var why)
                    ?? throw new IOException(
                        $"QEMU's migration port cannot be limited to the source host's certificate: {why}. QEMU's tls-authz matches a certificate's subject, " +
                        "and Ferry names another host's as this host's with the common name replaced (scripts/credentials.sh issues O=Ferry,CN=<host>).");
                return _subject = parsed;
            }
        }
    }

    /// <summary>The agent stops, and its QEMUs with it: the copies of its key go too.</summary>
    public void Dispose()
    {
        lock (_writing)
        {
            if (_written is null)
            {
                return;
            }

            try
            {
                System.IO.Directory.Delete(_written.CredentialsDirectory, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Log.NotRemoved(logger, _written.CredentialsDirectory, ex.Message);
            }

            _written = null;
        }
    }

    private QemuMigrationTls Write()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("QEMU guests run on Linux hosts only.");
        }

        var directory = Directory;
        // The user QEMU really drops to (the launcher warned at start when it is not the configured one).
        var owner = QemuRunAs.Resolve(qemu).User;
        try
        {
            // Rewritten whole at every agent start: what is there may be an earlier life's certificate.
            if (System.IO.Directory.Exists(directory))
            {
                System.IO.Directory.Delete(directory, recursive: true);
            }

            System.IO.Directory.CreateDirectory(qemu.RunDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            System.IO.Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var ca = File.ReadAllBytes(tls.CaFile!);
            var certificate = File.ReadAllBytes(tls.CertificateFile!);
            var key = File.ReadAllBytes(tls.KeyFile!);
            string[] files =
            [
                WritePrivate(directory, "ca-cert.pem", ca),
                WritePrivate(directory, "server-cert.pem", certificate),
                WritePrivate(directory, "server-key.pem", key),
                WritePrivate(directory, "client-cert.pem", certificate),
                WritePrivate(directory, "client-key.pem", key),
            ];
            if (owner is not null)
            {
                // QEMU drops to this user at launch and reads the files at object-add, long after: the files are
                // its, and the run directory lets it through (search only: it lists nothing there).
                Chown(owner, [directory, .. files]);
                File.SetUnixFileMode(qemu.RunDirectory, File.GetUnixFileMode(qemu.RunDirectory) | UnixFileMode.OtherExecute);
            }
        }
        catch (FileNotFoundException ex)
        {
            throw new IOException($"Cannot write QEMU's migration TLS credentials: {ex.Message} (Ferry:Tls:CaFile, CertificateFile, KeyFile)", ex);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            throw new IOException($"Cannot write QEMU's migration TLS credentials to {directory}: {ex.Message}", ex);
        }

        Log.Written(logger, directory, owner?.Name ?? Environment.UserName);
        return new QemuMigrationTls(directory);
    }

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private static string WritePrivate(string directory, string name, byte[] content)
    {
        var path = Path.Combine(directory, name);
        using var file = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        file.Write(content);
        return path;
    }

    /// <summary>chown(1) with an argument array: .NET has no chown, and this runs once per agent life.</summary>
    private static void Chown(QemuUser owner, IEnumerable<string> paths)
    {
        var run = ChildProcess.Run(
            new ChildProcessStart("chown", ["--no-dereference", string.Create(CultureInfo.InvariantCulture, $"{owner.Uid}:{owner.Gid}"), "--", .. paths]),
            ChownTimeout,
            TimeProvider.System);
        if (run.TimedOut)
        {
            throw new IOException($"chown did not finish within {ChownTimeout.TotalSeconds:0} s.");
        }

        if (run.Failure is { } failure)
        {
            throw new IOException(failure);
        }

        if (run.ExitCode != 0)
        {
            throw new IOException($"Giving the files to '{owner.Name}' (uid {owner.Uid}) failed: {run.Error.Trim()}");
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = AgentEventIds.QemuTlsCredentialsWritten, Level = LogLevel.Information, Message = "QEMU's migration TLS credentials are in {Directory}, for user {User}")]
        public static partial void Written(ILogger logger, string directory, string user);

        [LoggerMessage(EventId = AgentEventIds.QemuTlsCredentialsNotRemoved, Level = LogLevel.Warning, Message = "QEMU's migration TLS credentials in {Directory} could not be removed: {Reason}")]
        public static partial void NotRemoved(ILogger logger, string directory, string reason);
    }
}
