namespace Ferry.Api.Migrations;

/// <summary>Where an idempotency key is looked up: among <paramref name="Client"/>'s keys recorded at or after <paramref name="NotBefore"/>.</summary>
internal readonly record struct IdempotencyScope(string Client, DateTimeOffset NotBefore);
