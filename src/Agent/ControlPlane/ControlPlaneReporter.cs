using Ferry.Agent.Grpc;
using Ferry.Agent.Guests;
using Ferry.Contracts;
using Grpc.Core;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using Polly;
using ControlPlaneClient = Ferry.Contracts.ControlPlane.ControlPlaneClient;

namespace Ferry.Agent.ControlPlane;

/// <summary>
/// Makes the host known to the API: registers once the agent listens (retrying until the API
/// answers), then heartbeats with the inventory and the guests' run states. An API that no longer
/// knows the host gets a fresh registration.
/// </summary>
internal sealed partial class ControlPlaneReporter : BackgroundService
{
    private readonly ControlPlaneClient _client;
    private readonly IHostDescriber _host;
    private readonly IGuestRegistry _guests;
    private readonly IServer _server;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly AgentOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<ControlPlaneReporter> _logger;
    private static readonly TimeSpan InventoryRefresh = TimeSpan.FromSeconds(30);

    private readonly ResiliencePipeline _retry;
    private HostInventory? _inventory;
    private long _inventoryTakenAt;

    public ControlPlaneReporter(
        ControlPlaneClient client,
        IHostDescriber host,
        IGuestRegistry guests,
        IServer server,
        IHostApplicationLifetime lifetime,
        IOptions<AgentOptions> options,
        TimeProvider timeProvider,
        ILogger<ControlPlaneReporter> logger)
    {
        _client = client;
        _host = host;
        _guests = guests;
        _server = server;
        _lifetime = lifetime;
        _options = options.Value;
        _timeProvider = timeProvider;
        _logger = logger;

        // Registration is retried whatever the answer: without it the host does not exist for the API.
        _retry = ControlPlaneRetry.Create(_options, timeProvider, logger, "Register", retryEverything: true);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The endpoint announced must already answer, so registration waits for Kestrel to listen.
        await WhenStartedAsync(stoppingToken);
        var interval = await RegisterAsync(stoppingToken);
        using var timer = new PeriodicTimer(interval, _timeProvider);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await _client.HeartbeatAsync(await HeartbeatAsync(stoppingToken), deadline: CallDeadline.After(_options.CallTimeout), cancellationToken: stoppingToken);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
            {
                Log.Forgotten(_logger, _options.HostName);
                await RegisterAsync(stoppingToken);
            }
            catch (RpcException ex) when (!stoppingToken.IsCancellationRequested)
            {
                Log.HeartbeatFailed(_logger, ex.StatusCode, ex.Status.Detail);
            }
        }
    }

    private async Task<TimeSpan> RegisterAsync(CancellationToken stoppingToken)
    {
        var request = new RegisterRequest
        {
            HostName = _options.HostName,
            MigrationAddress = _options.MigrationAddress,
            AgentEndpoint = AgentEndpoint(),
            Inventory = await _host.DescribeAsync(stoppingToken),
        };
        await AddGuestsAsync(request.Guests, stoppingToken);
        _inventory = request.Inventory;
        _inventoryTakenAt = _timeProvider.GetTimestamp();
        var reply = await _retry.ExecuteAsync(
            async ct => await _client.RegisterAsync(request, deadline: CallDeadline.After(_options.CallTimeout), cancellationToken: ct),
            stoppingToken);
        Log.Registered(_logger, _options.HostName, reply.HostId, request.AgentEndpoint);

        // The API may ask for a different pace than configured; it is the one judging liveness.
        return reply.HeartbeatIntervalSeconds > 0 ? TimeSpan.FromSeconds(reply.HeartbeatIntervalSeconds) : _options.HeartbeatInterval;
    }

    private async Task<HeartbeatRequest> HeartbeatAsync(CancellationToken stoppingToken)
    {
        // A full inventory runs probes and --version processes; guests' states are what changes between beats.
        if (_inventory is null || _timeProvider.GetElapsedTime(_inventoryTakenAt) > InventoryRefresh)
        {
            _inventory = await _host.DescribeAsync(stoppingToken);
            _inventoryTakenAt = _timeProvider.GetTimestamp();
        }

        var request = new HeartbeatRequest { HostName = _options.HostName, Inventory = _inventory };
        await AddGuestsAsync(request.Guests, stoppingToken);
        return request;
    }

    private async Task AddGuestsAsync(ICollection<GuestStatus> into, CancellationToken stoppingToken)
    {
        foreach (var guest in await _guests.ListAsync(stoppingToken))
        {
            into.Add(new GuestStatus { Name = guest.Name, RunState = guest.RunState });
        }
    }

    private string AgentEndpoint()
    {
        if (_options.AdvertisedUrl is { Length: > 0 } advertised)
        {
            return advertised;
        }

        // Kestrel reports the port it bound, which matters when the configured one was 0.
        var bound = _server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        return bound ?? _options.GrpcUrl;
    }

    private async Task WhenStartedAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onStarted = _lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        await started.Task.WaitAsync(stoppingToken);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = AgentEventIds.HostRegistered, Level = LogLevel.Information, Message = "Registered host {HostName} as {HostId}, agent endpoint {Endpoint}")]
        public static partial void Registered(ILogger logger, string hostName, string hostId, string endpoint);

        [LoggerMessage(EventId = AgentEventIds.HeartbeatFailed, Level = LogLevel.Warning, Message = "Heartbeat failed: {Code} {Detail}")]
        public static partial void HeartbeatFailed(ILogger logger, StatusCode code, string detail);

        [LoggerMessage(EventId = AgentEventIds.HostForgotten, Level = LogLevel.Warning, Message = "The API does not know host {HostName}; registering again")]
        public static partial void Forgotten(ILogger logger, string hostName);
    }
}
