using Ferry.Contracts;
using Ferry.Testing.Api;

namespace Ferry.Cli.Tests.Support;

/// <summary>How the CLI's tests end a paced migration: the figures the CLI's output is checked against.</summary>
internal static class CliTestFigures
{
    /// <summary>Switches over, cleans up and completes with these times (2 MiB in 2 passes), ending the stream.</summary>
    public static void Complete(this PacedMigration run, double totalMs, double downtimeMs)
    {
        run.SwitchOver();
        run.Complete(new MigrationStats { Transport = Transport.Qemu, TotalTimeMs = totalMs, DowntimeMs = downtimeMs, SetupTimeMs = 2, BytesTransferred = 1 << 21, Passes = 2, CleanupTimeMs = 9 });
    }
}
