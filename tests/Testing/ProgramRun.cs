namespace Ferry.Testing;

/// <summary>How a program that ran to its end ended: its exit code and what it wrote.</summary>
public sealed record ProgramRun(int ExitCode, string Output, string Error)
{
    public bool Succeeded => ExitCode == 0;

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
}
