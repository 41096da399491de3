namespace Ferry.Api.Persistence;

/// <summary>The kinds of <see cref="MigrationEvent"/>, as the event streams name them in <c>event:</c>.</summary>
internal static class MigrationEventKinds
{
    public const string State = "state";

    public const string Progress = "progress";

    public const string Result = "result";
}
