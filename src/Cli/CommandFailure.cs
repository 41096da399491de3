using System.Net;

namespace Ferry.Cli;

/// <summary>
/// Ends a command with a message and an exit code: the API unreachable, refusing or finding the
/// request wrong, a setting that makes no sense, Ctrl-C while following. Thrown from wherever the
/// command is and caught once, where its action runs (<see cref="CommandActions"/>), which prints
/// the message to stderr and exits with <see cref="ExitCode"/>.
/// </summary>
internal sealed class CommandFailure(int exitCode, string message, Exception? inner = null, HttpStatusCode? status = null)
    : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;

    /// <summary>What the API answered, when it answered.</summary>
    public HttpStatusCode? Status { get; } = status;
}
