using System.Collections.Concurrent;
using Ferry.Contracts;
using Ferry.ServiceDefaults.Trust;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;

namespace Ferry.Api.Agents;

/// <summary>
/// gRPC clients of the agents, one channel per endpoint, each call through a Polly pipeline
/// kept per host: a circuit breaker always, retries only for calls the agent makes idempotent.
/// <c>Migrate</c> is never retried by the pipeline: re-attaching to it is the dispatcher's decision.
/// </summary>
public sealed class AgentClients(IOptions<AgentClientOptions> options, TimeProvider time, ClusterTrust? trust = null) : IDisposable
{
    private readonly AgentClientOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (ResiliencePipeline Idempotent, ResiliencePipeline Once)> _pipelines = new(StringComparer.Ordinal);

    public AgentClientOptions Options => _options;

    public AgentService.AgentServiceClient Client(string endpoint) =>
        new(_channels.GetOrAdd(endpoint, e => GrpcChannel.ForAddress(e, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = 4 * 1024 * 1024,

            // With cluster TLS the API presents its certificate and talks only to agents the cluster CA vouches for.
            HttpHandler = trust?.CreateClientHandler(peer => peer.Role == ClusterRole.Host),
            DisposeHttpClient = true,
        })));

    /// <summary>A call the agent makes idempotent: retried on transient failures.</summary>
    public ValueTask<T> Idempotent<T>(string endpoint, Func<AgentService.AgentServiceClient, CancellationToken, Task<T>> call, CancellationToken ct) =>
        Pipelines(endpoint).Idempotent.ExecuteAsync(async token => await call(Client(endpoint), token), ct);

    /// <summary>A call that must not be repeated blindly: circuit breaker only.</summary>
    public ValueTask<T> Once<T>(string endpoint, Func<AgentService.AgentServiceClient, CancellationToken, Task<T>> call, CancellationToken ct) =>
        Pipelines(endpoint).Once.ExecuteAsync(async token => await call(Client(endpoint), token), ct);

    /// <summary>Whether <paramref name="e"/> says the agent could not be reached or refused the call, rather than a bug.</summary>
    public static bool IsAgentFailure(Exception e) => e is RpcException or BrokenCircuitException;

    /// <summary>
    /// The deadline for a call started now, on the system clock: gRPC measures deadlines against
    /// it, not against the scheduler's <see cref="TimeProvider"/> (the API tests' fake clock stands
    /// at a fixed date; deadlines taken from it were all past once real time moved beyond it).
    /// </summary>
    public DateTime Deadline(TimeSpan? span = null) => DateTime.UtcNow + (span ?? _options.CallDeadline);

    public void Dispose()
    {
        foreach (var channel in _channels.Values)
        {
            channel.Dispose();
        }
    }

    private (ResiliencePipeline Idempotent, ResiliencePipeline Once) Pipelines(string endpoint) =>
        _pipelines.GetOrAdd(endpoint, _ =>
        {
            var transient = new PredicateBuilder().Handle<RpcException>(e => e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.ResourceExhausted);
            // One breaker shared by both pipelines: a host that is down is down for every call.
            var breaker = new CircuitBreakerStrategyOptions
            {
                ShouldHandle = transient,
                FailureRatio = 1.0,
                MinimumThroughput = _options.BreakAfterFailures,
                SamplingDuration = TimeSpan.FromSeconds(60),
                BreakDuration = _options.BreakDuration,
            };
            var breakerPipeline = new ResiliencePipelineBuilder { TimeProvider = time }.AddCircuitBreaker(breaker).Build();
            var idempotent = new ResiliencePipelineBuilder { TimeProvider = time }
                .AddRetry(new RetryStrategyOptions
                {
                    ShouldHandle = transient,
                    MaxRetryAttempts = _options.Retries,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    Delay = TimeSpan.FromMilliseconds(200),
                })
                .AddPipeline(breakerPipeline)
                .Build();
            return (idempotent, breakerPipeline);
        });
}
