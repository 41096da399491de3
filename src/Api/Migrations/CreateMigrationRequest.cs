namespace Ferry.Api.Migrations;

/// <summary>Asks to move a guest.</summary>
/// <param name="Guest">Guest id or name.</param>
/// <param name="TargetHost">Host id or name; absent to let the scheduler choose.</param>
/// <param name="Policy">Limits and objectives; absent fields take their defaults.</param>
public sealed record CreateMigrationRequest(string? Guest, string? TargetHost, PolicyInput? Policy);
