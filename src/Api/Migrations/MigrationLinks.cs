using Ferry.Api.Http;

namespace Ferry.Api.Migrations;

/// <summary>A migration's links: itself, its cancel task and its guest.</summary>
public sealed record MigrationLinks(Link Self, Link Cancel, Link Guest);
