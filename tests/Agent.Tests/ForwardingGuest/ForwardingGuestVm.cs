using System.Diagnostics;
using Ferry.Agent.Qemu;
using Ferry.Agent.Tests.Probe;
using Ferry.Agent.Tests.Support;
using Ferry.Testing;

namespace Ferry.Agent.Tests.ForwardingGuest;

/// <summary>
/// The forwarding guest under QEMU/TCG inside a test network namespace, its two virtio-net NICs on
/// the taps <see cref="FirstTap"/> and <see cref="SecondTap"/>. The NICs use <c>vectors=0</c> as
/// the agent's vhost-user NICs must under TCG, so the guest sees the same devices it will in the lab.
/// </summary>
internal sealed class ForwardingGuestVm : IAsyncDisposable
{
    public const string FirstTap = "fytap0";
    public const string SecondTap = "fytap1";
    private const string ReadyLine = "ferry-forwarder: ready";
    private const string FailedLine = "ferry-forwarder: FAILED";

    private readonly Process _qemu;
    private readonly TestDirectory _directory;
    private readonly Task<string> _stderr;

    private ForwardingGuestVm(Process qemu, TestDirectory directory, string serialLog)
    {
        _qemu = qemu;
        _directory = directory;
        SerialLog = serialLog;
        _stderr = qemu.StandardError.ReadToEndAsync();
    }

    public string SerialLog { get; }

    /// <summary>From starting QEMU to the guest's ready line on the serial console.</summary>
    public TimeSpan BootTime { get; private set; }

    public static async Task<ForwardingGuestVm> BootAsync(ForwardingGuestTestImage image, string extraCommandLine, TestNetworkNamespace ns, CancellationToken cancellationToken)
    {
        var qemu = QemuHost.FindQemu() ?? throw new InvalidOperationException("unreachable: checked by the caller");
        await ns.AddTapAsync(FirstTap);
        await ns.AddTapAsync(SecondTap);
        var directory = new TestDirectory();
        var serialLog = directory.File("serial.log");
        string[] args =
        [
            "netns", "exec", ns.Name, qemu,
            "-name", "forwarding-guest",
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-accel", "tcg",
            "-m", "128M", "-smp", "1",
            "-kernel", image.Kernel, "-initrd", image.Initrd, "-append", $"{image.CommandLine} {extraCommandLine}",
            "-serial", $"file:{QemuCommandLine.Escape(serialLog)}",
            "-netdev", $"tap,id=nic0,ifname={FirstTap},script=no,downscript=no",
            "-device", $"virtio-net-pci,netdev=nic0,mac={QemuCommandLine.MacAddress("forwarding-guest", 0)},vectors=0",
            "-netdev", $"tap,id=nic1,ifname={SecondTap},script=no,downscript=no",
            "-device", $"virtio-net-pci,netdev=nic1,mac={QemuCommandLine.MacAddress("forwarding-guest", 1)},vectors=0",
        ];
        var psi = Programs.StartInfo("ip", args);
        psi.RedirectStandardOutput = false; // never read: a pipe nobody drains could fill and stop QEMU
        var clock = Stopwatch.StartNew();
        var vm = new ForwardingGuestVm(Process.Start(psi)!, directory, serialLog);
        try
        {
            await vm.WaitUntilReadyAsync(cancellationToken);
            vm.BootTime = clock.Elapsed;
            return vm;
        }
        catch
        {
            await vm.DisposeAsync();
            throw;
        }
    }

    /// <summary>The guest's ready line, which names how it forwards.</summary>
    public string ReadyMessage { get; private set; } = string.Empty;

    public async Task<string> ReadSerialLogAsync() =>
        File.Exists(SerialLog) ? await File.ReadAllTextAsync(SerialLog) : string.Empty;

    public async ValueTask DisposeAsync()
    {
        if (!_qemu.HasExited)
        {
            _qemu.Kill(entireProcessTree: true);
        }

        await _qemu.WaitForExitAsync();
        _qemu.Dispose();
        _directory.Dispose();
    }

    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var serial = await ReadSerialLogAsync();
            var ready = serial.IndexOf(ReadyLine, StringComparison.Ordinal);
            if (ready >= 0 && serial.IndexOf('\n', ready) is var end and > 0)
            {
                ReadyMessage = serial[ready..end].Trim();
                return;
            }

            if (serial.Contains(FailedLine, StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"The forwarding guest failed to set up: {serial}");
            }

            if (_qemu.HasExited)
            {
                throw new InvalidOperationException($"QEMU exited ({_qemu.ExitCode}) before the guest was ready: {await _stderr}; serial: {serial}");
            }

            await Task.Delay(20, cancellationToken);
        }
    }
}
