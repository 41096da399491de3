namespace Ferry.Cli.Output;

/// <summary>What <c>--output</c> takes.</summary>
internal static class OutputFormat
{
    /// <summary>Tables and live progress, for people.</summary>
    public const string Table = "table";

    /// <summary>The API's JSON, field names as in REST, for scripts.</summary>
    public const string Json = "json";
}
