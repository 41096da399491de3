using Ferry.Agent.Grpc;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace Ferry.Agent.ControlPlane;

/// <summary>
/// Retries a call to the API until it answers: exponential backoff with jitter, capped, for as long
/// as the agent runs. Only failures that a later attempt can fix are retried.
/// </summary>
internal static partial class ControlPlaneRetry
{
    public static ResiliencePipeline Create(AgentOptions options, TimeProvider timeProvider, ILogger logger, string call, bool retryEverything = false, Func<RpcException, bool>? retry = null) =>
        new ResiliencePipelineBuilder { TimeProvider = timeProvider }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<RpcException>(ex => retryEverything || (retry ?? CallDeadline.IsTransient)(ex)),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.RetryMaxDelay,
                OnRetry = args =>
                {
                    Log.Retrying(logger, call, args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds, args.Outcome.Exception?.Message ?? "no answer");
                    return ValueTask.CompletedTask;
                },
            })
            .Build();

    private static partial class Log
    {
        [LoggerMessage(EventId = AgentEventIds.ControlPlaneRetrying, Level = LogLevel.Warning, Message = "{Call} to the API failed (attempt {Attempt}); next try in {DelayMs} ms: {Reason}")]
        public static partial void Retrying(ILogger logger, string call, int attempt, double delayMs, string reason);
    }
}
