namespace Ferry.Agent.Tests.Ovs;

/// <summary>One real switch for a whole test class: DPDK initialises once, not once per test.</summary>
public sealed class OvsSwitchFixture : IAsyncLifetime
{
    private OvsTestSwitch? _host;

    internal OvsTestSwitch Host => _host ?? throw new InvalidOperationException("The switch is not started.");

    public async ValueTask InitializeAsync()
    {
        await OvsTestSwitch.ReserveHugepagesAsync();
        _host = OvsTestSwitch.Create();
        try
        {
            await _host.Switch.EnsureStartedAsync();
        }
        catch
        {
            await _host.DisposeAsync();
            _host = null;
            throw;
        }

    }

    public async ValueTask DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }
}
