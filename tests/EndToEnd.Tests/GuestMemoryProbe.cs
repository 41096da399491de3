using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Ferry.Agent.TestGuest;

namespace Ferry.EndToEnd.Tests;

/// <summary>
/// Looks at a page-counter guest the way docs/reliability.md asks: pause it through its QMP socket (in
/// the agent's run directory), check the memory invariant on its RAM file, resume it. The test
/// talks QMP itself rather than through the agent so that what it checks is not what it tests.
/// </summary>
public static class GuestMemoryProbe
{
    /// <summary>The QEMU instance directories of <paramref name="guest"/> on <paramref name="host"/> that have a live QMP socket.</summary>
    public static IReadOnlyList<string> Instances(string runRoot, string host, string guest)
    {
        var qemu = Path.Combine(runRoot, host, "qemu");
        return Directory.Exists(qemu)
            ? Directory.GetDirectories(qemu).Where(d => Path.GetFileName(d) == guest || Path.GetFileName(d).StartsWith(guest + "-in-", StringComparison.Ordinal))
                .Where(d => File.Exists(Path.Combine(d, "qmp.sock"))).ToList()
            : [];
    }

    /// <summary>Pauses the guest, checks its RAM and resumes it; returns the check and the run state QEMU reported.</summary>
    public static async Task<(MemoryInvariantResult Invariant, string RunState)> CheckAsync(string host, string instanceDirectory, int memoryMiB)
    {
        var instance = Path.GetFileName(instanceDirectory);
        var ram = Path.Combine("/dev/shm", $"ferry-{host}", $"ferry-{instance}.ram");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        // The operator's monitor: the agent holds the main one for the guest's whole life.
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(Path.Combine(instanceDirectory, "qmp-operator.sock")));
        await using var stream = new NetworkStream(socket);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        await reader.ReadLineAsync(); // greeting
        await Execute(stream, reader, "qmp_capabilities");
        var status = (await Execute(stream, reader, "query-status"))["status"]!.GetValue<string>();
        await Execute(stream, reader, "stop");
        try
        {
            var invariant = await MemoryInvariant.CheckRamFileAsync(ram, PageCounterRange.ForGuest(memoryMiB));

            // Booted once in its life: on the host that launched it, never on a migration target (the tests
            // migrate only a counting guest). One that restarted and finished clearing would pass the memory check.
            invariant = invariant.WithBoots(Boots(instanceDirectory), expected: instance.Contains("-in-", StringComparison.Ordinal) ? 0 : 1, $"{host}'s {instance}");
            return (invariant, status);
        }
        finally
        {
            await Execute(stream, reader, "cont");
        }
    }

    /// <summary>
    /// The real, effective, saved and file-system uids of the QEMU whose QMP socket is in
    /// <paramref name="instanceDirectory"/>, from <c>/proc/PID/status</c>; empty when no such process runs.
    /// </summary>
    public static IReadOnlyList<string> QemuUids(string instanceDirectory)
    {
        var qmp = $"socket,id=qmp0,path={Path.Combine(instanceDirectory, "qmp.sock")},";
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                if (int.TryParse(Path.GetFileName(entry), out _)
                    && File.ReadAllText(Path.Combine(entry, "cmdline")).Split('\0').Any(a => a.StartsWith(qmp, StringComparison.Ordinal)))
                {
                    var uid = File.ReadLines(Path.Combine(entry, "status")).First(l => l.StartsWith("Uid:", StringComparison.Ordinal));
                    return uid["Uid:".Length..].Split('\t', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // exited meanwhile
            }
        }

        return [];
    }

    /// <summary>Waits until the page counter on <paramref name="host"/> has booted and counts (its boot marker is on the serial log).</summary>
    public static async Task WaitUntilCountingAsync(string runRoot, string host, string guest)
    {
        var directory = Path.Combine(runRoot, host, "qemu", guest);
        for (var attempt = 0; attempt < 1200; attempt++)
        {
            if (Boots(directory) > 0)
            {
                return;
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        throw new TimeoutException($"{guest} on {host} never started counting: no boot marker in {Path.Combine(directory, "serial.log")}");
    }

    /// <summary>How often the page counter booted in this QEMU instance: it writes its marker to the serial port once per boot.</summary>
    private static int Boots(string instanceDirectory)
    {
        var log = Path.Combine(instanceDirectory, "serial.log");
        return File.Exists(log) ? PageCounterBootSector.Boots(File.ReadAllText(log)) : 0;
    }

    private static async Task<JsonNode> Execute(NetworkStream stream, StreamReader reader, string command)
    {
        await stream.WriteAsync(Encoding.UTF8.GetBytes(new JsonObject { ["execute"] = command }.ToJsonString() + "\n"));
        while (await reader.ReadLineAsync() is { } line)
        {
            var message = JsonNode.Parse(line)!;
            if (message["return"] is { } result)
            {
                return result;
            }

            if (message["error"] is { } error)
            {
                throw new InvalidOperationException($"QMP {command}: {error}");
            }
        }

        throw new IOException($"QMP closed during {command}");
    }
}
