using Ferry.Testing;
using Ferry.Transfer.Memory;

namespace Ferry.Transfer.Tests.Memory;

[Trait("Tier", "fast")]
public sealed class RamFilesTests : IDisposable
{
    private readonly string _root = Path.Combine("/dev/shm", "ferry-ramfiles-" + Guid.NewGuid().ToString("N")[..10]);

    private static string Run(string file, params string[] arguments)
    {
        var run = Programs.Run(file, arguments);
        Assert.True(run.Succeeded, $"{file} {string.Join(' ', arguments)}: {run.Error}");
        return run.Output.Trim();
    }

    private static string OwnerAndMode(string path) => Run("stat", "-c", "%u %a", path);

    private static void SkipUnlessRoot()
    {
        if (Environment.UserName != "root")
        {
            Assert.Skip("needs root to give a directory to another user");
        }
    }

    [Fact]
    public void A_new_ram_directory_is_0700_and_a_too_open_one_of_ours_is_closed()
    {
        RamFiles.EnsurePrivateDirectory(_root);
        Assert.EndsWith(" 700", OwnerAndMode(_root), StringComparison.Ordinal);

        Run("chmod", "777", _root);
        RamFiles.EnsurePrivateDirectory(_root);

        Assert.EndsWith(" 700", OwnerAndMode(_root), StringComparison.Ordinal);
    }

    [Fact]
    public void A_ram_directory_owned_by_someone_else_is_refused_and_left_as_it_was()
    {
        SkipUnlessRoot();
        Directory.CreateDirectory(_root);
        Run("chmod", "755", _root);
        Run("chown", "65534", _root);

        var refused = Assert.Throws<UnauthorizedAccessException>(() => RamFiles.EnsurePrivateDirectory(_root));

        Assert.Contains("belongs to uid 65534", refused.Message, StringComparison.Ordinal);
        Assert.Equal("65534 755", OwnerAndMode(_root));
    }

    [Fact]
    public void A_symlink_in_place_of_the_ram_directory_is_refused()
    {
        Directory.CreateDirectory(_root);
        var link = _root + "-link";
        File.CreateSymbolicLink(link, _root);
        try
        {
            Assert.Throws<UnauthorizedAccessException>(() => RamFiles.EnsurePrivateDirectory(link));
        }
        finally
        {
            File.Delete(link);
        }
    }

    [Fact]
    public void A_ram_file_is_created_0600_once_and_never_through_a_planted_file_or_symlink()
    {
        RamFiles.EnsurePrivateDirectory(_root);
        var ram = Path.Combine(_root, "guest.ram");
        RamFiles.CreateExclusive(ram);
        Assert.EndsWith(" 600", OwnerAndMode(ram), StringComparison.Ordinal);
        Assert.Throws<IOException>(() => RamFiles.CreateExclusive(ram));

        var victim = Path.Combine(_root, "victim");
        File.WriteAllText(victim, "secret");
        var planted = Path.Combine(_root, "planted.ram");
        File.CreateSymbolicLink(planted, victim);

        Assert.Throws<IOException>(() => RamFiles.CreateExclusive(planted));
        Assert.Equal("secret", File.ReadAllText(victim));
    }

    [Fact]
    public void A_ram_file_can_be_made_for_the_user_qemu_runs_as()
    {
        SkipUnlessRoot();
        RamFiles.EnsurePrivateDirectory(_root);
        var ram = Path.Combine(_root, "guest.ram");

        RamFiles.CreateExclusive(ram, (65534, 65534));

        Assert.Equal("65534 600", OwnerAndMode(ram));
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
