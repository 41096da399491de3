namespace Ferry.Agent.Inventory;

/// <summary>The version a program reports, or why there is none.</summary>
/// <param name="Version">e.g. <c>7.2.22</c>; null when the program is missing or said nothing parseable.</param>
/// <param name="Detail">Its <c>--version</c> output, or why it could not be run.</param>
public sealed record ToolVersion(string? Version, string Detail);
