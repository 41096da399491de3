using Ferry.Agent.Tests.Probe;
using Ferry.Agent.Tests.Support;

namespace Ferry.Agent.Tests.ForwardingGuest;

/// <summary>
/// One forwarding guest booted for all tests of a class, forwarding the way <see cref="Forwarding"/>
/// says (the init's <c>ferry.forward=</c>). It is set up by the first test that asks, inside that
/// test, so a missing prerequisite skips the tests instead of failing the fixture.
/// </summary>
public abstract class ForwardingGuestFixture : IAsyncDisposable
{
    /// <summary>A guard against a guest that never comes up, not a timing assertion.</summary>
    private static readonly TimeSpan SetupLimit = TimeSpan.FromMinutes(10);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private TestNetworkNamespace? _namespace;
    private ForwardingGuestVm? _vm;
    private string? _skipReason;
    private Exception? _setupFailure;

    internal ForwardingGuestTestImage? Image { get; private set; }

    /// <summary>The forwarding the guest is asked for: <c>xdp</c> or <c>bridge</c>.</summary>
    public abstract string Forwarding { get; }

    internal async Task<(TestNetworkNamespace Namespace, ForwardingGuestVm Vm)> GuestAsync()
    {
        await _gate.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            if (_skipReason is not null)
            {
                Assert.Skip(_skipReason);
            }

            if (_setupFailure is not null)
            {
                throw new InvalidOperationException("The forwarding guest failed to come up for an earlier test.", _setupFailure);
            }

            if (_vm is null)
            {
                try
                {
                    await SetUpAsync();
                }
                catch (Xunit.Sdk.SkipException e)
                {
                    _skipReason = e.Message.Replace("$XunitDynamicSkip$", string.Empty, StringComparison.Ordinal);
                    throw;
                }
                catch (Exception e)
                {
                    _setupFailure = e;
                    throw;
                }
            }

            return (_namespace!, _vm!);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_vm is not null)
        {
            await _vm.DisposeAsync();
        }

        if (_namespace is not null)
        {
            await _namespace.DisposeAsync();
        }

        _gate.Dispose();
        GC.SuppressFinalize(this);
    }

    private async Task SetUpAsync()
    {
        if (QemuHost.FindQemu() is null)
        {
            Assert.Skip("qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)");
        }

        _namespace ??= await TestNetworkNamespace.CreateAsync();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        limit.CancelAfter(SetupLimit);
        Image = await ForwardingGuestTestImage.BuildAsync(limit.Token);
        TestContext.Current.SendDiagnosticMessage($"forwarding guest image: {Image.BuildTime.TotalSeconds:F1} s ({Image.BuildLog}); kernel {new FileInfo(Image.Kernel).Length} B, initrd {new FileInfo(Image.Initrd).Length} B");
        _vm = await ForwardingGuestVm.BootAsync(Image, $"ferry.forward={Forwarding}", _namespace, limit.Token);
        TestContext.Current.SendDiagnosticMessage($"forwarding guest ready {_vm.BootTime.TotalSeconds:F1} s after QEMU started (TCG): {(await _vm.ReadSerialLogAsync()).Trim()}");
    }
}

public sealed class XdpForwardingGuestFixture : ForwardingGuestFixture
{
    public override string Forwarding => "xdp";
}

public sealed class BridgeForwardingGuestFixture : ForwardingGuestFixture
{
    public override string Forwarding => "bridge";
}
