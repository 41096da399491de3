namespace Ferry.Cli.Rest;

/// <summary>The API's migration states, in the order a migration that completes passes them (docs/api.md, "How a migration flows").</summary>
internal static class MigrationStates
{
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static IReadOnlyList<string> Flow { get; } =
        ["queued", "scheduled", "preparingTarget", "targetReady", "running", "switchingOver", "cleaningUp", Completed];

    /// <summary>Every state, as <c>--state</c> accepts them.</summary>
    public static IReadOnlyList<string> All { get; } = [.. Flow, "cancelling", Cancelled, Failed];

    public static bool IsTerminal(string state) => state is Completed or Failed or Cancelled;
}
