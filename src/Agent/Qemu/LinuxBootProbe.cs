using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Ferry.Agent.Qemu;

/// <summary>
/// Whether this host's KVM boots an unmodified Linux kernel. A <c>/dev/kvm</c> that opens is not
/// enough: kvm_pvm's runs BIOS-level code but hangs a Linux kernel as it leaves real mode (its
/// console stops after "Probing EDD ... ok", seen here). So the probe boots the guest's own kernel
/// under KVM without an initramfs and waits for the panic that ends its initialisation ("VFS: Unable
/// to mount root fs"): reaching it means the kernel ran its whole init under KVM. Hardware KVM gets
/// there in about a second; a kernel that has not within <see cref="QemuLauncherOptions.LinuxKvmProbeTimeout"/>
/// does not boot here, and Linux guests run under TCG. The verdict is kept in a file keyed by the
/// kernel, QEMU, the KVM device and the boot id, so agents started later on the same boot (tests
/// start many) do not wait again.
/// </summary>
internal static class LinuxBootProbe
{
    private const string CacheFile = "linux-kvm-probe.json";

    /// <summary>What the kernel prints once its init is done and it finds no root file system.</summary>
    private const string InitDone = "Kernel panic";

    public static AcceleratorChoice Probe(QemuLauncherOptions options, string kernel)
    {
        ArgumentNullException.ThrowIfNull(options);
        var key = CacheKey(options, kernel);
        var cachePath = Path.Combine(options.ProbeCacheDirectory, CacheFile);
        if (ReadCache(cachePath, key) is { } cached)
        {
            return cached with { Reason = cached.Reason + " (probed earlier on this boot)" };
        }

        var choice = Boot(options, kernel);
        WriteCache(cachePath, key, choice);
        return choice;
    }

    private static AcceleratorChoice Boot(QemuLauncherOptions options, string kernel)
    {
        var directory = Directory.CreateTempSubdirectory("ferry-kvm-probe-");
        var console = Path.Combine(directory.FullName, "console.log");
        string[] arguments =
        [
            "-accel", "kvm", "-machine", options.MachineType, "-nodefaults", "-no-user-config", "-display", "none",
            "-m", "128M", "-kernel", kernel, "-append", "console=ttyS0 earlyprintk=serial,ttyS0 panic=-1",
            "-chardev", $"file,id=probe0,path={QemuCommandLine.Escape(console)}", "-serial", "chardev:probe0", "-no-reboot",
        ];

        var watch = Stopwatch.StartNew();
        try
        {
            var run = ChildProcess.Run(new ChildProcessStart(options.QemuBinary, arguments), options.LinuxKvmProbeTimeout, TimeProvider.System);
            if (run.Failure is { } failure && !run.TimedOut)
            {
                return new AcceleratorChoice(Accelerator.Tcg, $"the Linux boot probe could not run QEMU ({failure}); Linux guests run under TCG");
            }

            var text = ReadConsole(console);
            var seconds = watch.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);
            if (!run.TimedOut && text.Contains(InitDone, StringComparison.Ordinal))
            {
                return new AcceleratorChoice(Accelerator.Kvm, $"a Linux kernel ran its whole init under KVM in {seconds} s (boot probe)");
            }

            var stopped = LastLine(text) is { Length: > 0 } last ? $"its console stopped at '{last}'" : "its console stayed empty";
            var why = !run.TimedOut
                ? $"QEMU exited with code {run.ExitCode} before the kernel's init was done ({stopped}; {run.Error.Trim()})"
                : $"a Linux kernel did not finish its init under KVM within {seconds} s ({stopped})";
            return new AcceleratorChoice(Accelerator.Tcg, $"{why}{KvmOrigin()}; Linux guests run under TCG");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>Names kvm_pvm when it provides /dev/kvm: the known reason a Linux kernel does not boot.</summary>
    private static string KvmOrigin() =>
        Directory.Exists("/sys/module/kvm_pvm") ? "; /dev/kvm comes from kvm_pvm, which runs BIOS-level guests but not an unmodified Linux kernel" : string.Empty;

    private static string ReadConsole(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    private static string? LastLine(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? null : new string(lines[^1].Where(c => !char.IsControl(c)).Take(120).ToArray());
    }

    private static string CacheKey(QemuLauncherOptions options, string kernel)
    {
        var facts = new StringBuilder();
        var info = new FileInfo(kernel);
        facts.Append(CultureInfo.InvariantCulture, $"{info.FullName}\n{info.Length}\n{info.LastWriteTimeUtc.Ticks}\n");
        facts.Append(CultureInfo.InvariantCulture, $"{options.QemuBinary}\n{options.MachineType}\n{options.KvmDevice}\n");
        facts.Append(ReadOrEmpty("/proc/sys/kernel/random/boot_id"));
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(facts.ToString())));
    }

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    private static AcceleratorChoice? ReadCache(string path, string key)
    {
        try
        {
            var entry = JsonSerializer.Deserialize<CacheEntry>(File.ReadAllText(path));
            return entry is not null && entry.Key == key && Enum.TryParse<Accelerator>(entry.Accelerator, out var accelerator)
                ? new AcceleratorChoice(accelerator, entry.Reason)
                : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Written whole and renamed into place, so a concurrent agent never reads half of it; a failure only costs the next agent a probe.</summary>
    private static void WriteCache(string path, string key, AcceleratorChoice choice)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var temporary = $"{path}.{Environment.ProcessId}";
            File.WriteAllText(temporary, JsonSerializer.Serialize(new CacheEntry(key, choice.Accelerator.ToString(), choice.Reason)));
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    private sealed record CacheEntry(string Key, string Accelerator, string Reason);
}
