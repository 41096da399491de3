using System.Diagnostics;
using System.ComponentModel;

namespace Ferry.Agent.Ovs;

/// <summary>
/// Runs one OVS tool (ovs-vsctl, ovs-appctl, ovsdb-tool) with an argument array, never a shell, and
/// kills it when it outlives its limit: ovs-vsctl waits for ovs-vswitchd to apply a change, and a
/// hung ovs-vswitchd must not hang the agent.
/// </summary>
internal static class OvsCommand
{
    public static async Task<OvsCommandResult> RunAsync(
        string binary,
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string> environment,
        TimeSpan timeout,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(binary)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            startInfo.Environment[key] = value;
        }

        using var timeoutSource = new CancellationTokenSource(timeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);
        Process process;
        try
        {
            process = Process.Start(startInfo) ?? throw new OvsCommandException($"{binary} did not start.");
        }
        catch (Win32Exception ex)
        {
            throw new OvsCommandException($"Cannot run {binary}: {ex.Message}", ex);
        }

        using (process)
        {
            process.StandardInput.Close();
            var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var error = process.StandardError.ReadToEndAsync(CancellationToken.None);
            try
            {
                await process.WaitForExitAsync(linked.Token);
            }
            catch (OperationCanceledException)
            {
                Kill(process);
                await process.WaitForExitAsync(CancellationToken.None);
                cancellationToken.ThrowIfCancellationRequested();
                throw new OvsCommandException($"{Describe(binary, startInfo.ArgumentList)} did not finish within {timeout}: {(await error).Trim()}");
            }

            return new OvsCommandResult(process.ExitCode, await output, await error);
        }
    }

    public static string Describe(string binary, IEnumerable<string> arguments) =>
        $"{Path.GetFileName(binary)} {string.Join(' ', arguments)}";

    private static void Kill(Process process)
    {
        try
        {
            process.Kill();
        }
        catch (InvalidOperationException)
        {
            // Exited between the timeout and the kill.
        }
    }
}
