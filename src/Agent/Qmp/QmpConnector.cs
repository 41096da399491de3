using Microsoft.Extensions.Logging;

namespace Ferry.Agent.Qmp;

internal sealed class QmpConnector(QmpClientOptions options, TimeProvider timeProvider, ILoggerFactory loggerFactory) : IQmpConnector
{
    public async Task<IQmpClient> ConnectAsync(string socketPath, CancellationToken cancellationToken = default) =>
        await QmpClient.ConnectAsync(socketPath, options, timeProvider, loggerFactory.CreateLogger<QmpClient>(), cancellationToken);
}
