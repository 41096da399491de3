using Ferry.Agent.Qemu;

namespace Ferry.Agent.Guests;

/// <summary>
/// Reads the forwarding guest's serial console: its init prints <c>ferry-forwarder: ready ...</c> once
/// frames cross between its NICs, or <c>ferry-forwarder: FAILED: ...</c> before it powers off.
/// </summary>
internal static class ForwarderConsole
{
    public const string ReadyMarker = "ferry-forwarder: ready";
    public const string FailedMarker = "ferry-forwarder: FAILED";

    private const int TailLength = 2000;
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>Waits for the ready line and returns it.</summary>
    /// <exception cref="QemuLaunchException">The guest said it failed, QEMU exited, or the timeout passed; the message ends with the console's tail.</exception>
    public static async Task<string> WaitUntilReadyAsync(QemuProcess qemu, TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(qemu);
        var started = timeProvider.GetTimestamp();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();

            // Read before looking at the process, so a guest that printed its verdict and powered off is judged by what it said.
            var exited = qemu.HasExited;
            var console = await qemu.ReadSerialLogAsync(cancellationToken);
            if (Line(console, ReadyMarker) is { } ready)
            {
                return ready;
            }

            if (Line(console, FailedMarker) is { } failed)
            {
                throw new QemuLaunchException($"The forwarding guest {qemu.Spec.Guest} failed to set up: {failed}. Console: {Tail(console)}");
            }

            if (exited)
            {
                throw new QemuLaunchException($"The forwarding guest {qemu.Spec.Guest}'s QEMU exited with code {await qemu.Exited} before it was ready. Console: {Tail(console)}");
            }

            if (timeProvider.GetElapsedTime(started) > timeout)
            {
                throw new QemuLaunchException($"The forwarding guest {qemu.Spec.Guest} did not say it forwards within {timeout}. Console: {Tail(console)}");
            }

            await Task.WhenAny(qemu.Exited, Task.Delay(PollInterval, timeProvider, cancellationToken));
        }
    }

    private static string? Line(string console, string marker)
    {
        var at = console.IndexOf(marker, StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        var end = console.IndexOfAny(['\r', '\n'], at);

        // A marker without its line end yet is still being written; the next poll sees the whole line.
        return end < 0 ? null : console[at..end];
    }

    private static string Tail(string console)
    {
        var printable = new string(console.Select(c => c is '\n' or '\t' || !char.IsControl(c) ? c : ' ').ToArray()).Trim();
        return printable.Length <= TailLength ? printable : printable[^TailLength..];
    }
}
