namespace Ferry.Cli.Tests.Support;

/// <summary>How one run of <c>ferry</c> ended: its exit code and what it wrote.</summary>
public sealed record FerryRun(int ExitCode, string Output, string Error)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
}
