namespace Ferry.Lab.Tests;

public sealed class LabOptionsTests
{
    [Fact]
    public void Defaults_are_the_documented_ones()
    {
        var options = LabOptions.Parse([], out string? error)!;

        Assert.Null(error);
        Assert.Equal((5, 2000, 1024, ".ferry/lab", false), (options.Runs, options.RatePps, options.IdleMemoryMiB, options.OutDirectory, options.NoProbe));
        Assert.Equal(["qemu", "native"], options.Transports);
    }

    [Fact]
    public void Command_line_sets_every_knob()
    {
        var options = LabOptions.Parse(["--api", "http://127.0.0.1:6080", "--api-key-file", "/tmp/key", "--runs", "3", "--rate", "500", "--transports", "qemu", "--idle-memory-mib", "256", "--out", "/tmp/x", "--no-probe"], out _)!;

        Assert.Equal((new Uri("http://127.0.0.1:6080"), 3, 500, 256, "/tmp/x", true), (options.Api, options.Runs, options.RatePps, options.IdleMemoryMiB, options.OutDirectory, options.NoProbe));
        Assert.Equal(["qemu"], options.Transports);
        Assert.Equal("/tmp/key", options.ApiKeyFile);
    }

    [Theory]
    [InlineData("--runs", "0")]
    [InlineData("--transports", "rdma")]
    [InlineData("--rate", "fast")]
    [InlineData("--bogus", "1")]
    public void Nonsense_is_refused_with_a_reason(string name, string value)
    {
        Assert.Null(LabOptions.Parse([name, value], out string? error));
        Assert.False(string.IsNullOrEmpty(error));
    }
}
