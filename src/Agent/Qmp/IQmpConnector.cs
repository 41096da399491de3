namespace Ferry.Agent.Qmp;

/// <summary>Opens QMP connections: connect, read the greeting, negotiate capabilities.</summary>
public interface IQmpConnector
{
    Task<IQmpClient> ConnectAsync(string socketPath, CancellationToken cancellationToken = default);
}
