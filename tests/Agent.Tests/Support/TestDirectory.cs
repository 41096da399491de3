namespace Ferry.Agent.Tests.Support;

/// <summary>
/// A private directory under /tmp, short enough for UNIX socket paths (108 bytes), removed on dispose.
/// </summary>
internal sealed class TestDirectory : IDisposable
{
    public TestDirectory()
    {
        Path = Directory.CreateTempSubdirectory("fy").FullName;
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A process we started may still hold a file for a moment; /tmp is cleaned eventually.
        }
    }
}
