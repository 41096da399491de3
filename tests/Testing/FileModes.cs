namespace Ferry.Testing;

/// <summary>Who owns a file and its permission bits, as the kernel reports them (<c>stat -c "%u %a"</c>).</summary>
public static class FileModes
{
    /// <summary>"UID MODE", e.g. "0 600": .NET reads a file's mode but not its owner.</summary>
    public static string OwnerAndMode(string path) => Programs.Run("stat", "-c", "%u %a", path).Output.Trim();
}
