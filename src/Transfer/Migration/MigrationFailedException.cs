namespace Ferry.Transfer.Migration;

/// <summary>An expected failure inside the migration loop (refused, aborted, timed out); turned into a result.</summary>
internal sealed class MigrationFailedException(string message) : Exception(message);
