namespace Ferry.Migration.Benchmark;

/// <summary>The two guests did not dirty the same way, so no ratio may be printed.</summary>
internal sealed class ProfileMismatchException(string message) : Exception(message);
