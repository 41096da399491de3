using Ferry.Agent.Inventory;
using Ferry.Domain.Hosts;

namespace Ferry.Agent.Tests.Inventory;

[Trait("Tier", "fast")]
public sealed class ProcParsingTests
{
    [Fact]
    public void Cpuinfo_gives_the_first_model_the_first_flags_sorted_and_the_processor_count()
    {
        const string Cpuinfo = """
            processor	: 0
            model name	: AMD EPYC 7B13
            flags		: sse2 fpu avx2
            
            processor	: 1
            model name	: Other
            flags		: sse2 fpu avx2 avx512f
            """;

        var cpu = CpuDescription.Parse(Cpuinfo);

        Assert.Equal("AMD EPYC 7B13", cpu.Model);
        Assert.Equal(["avx2", "fpu", "sse2"], cpu.Flags);
        Assert.Equal(2, cpu.Count);
    }

    [Fact]
    public void Cpuinfo_without_a_model_name_says_unknown()
    {
        var cpu = CpuDescription.Parse("processor\t: 0\nfeatures\t: fp asimd\n");

        Assert.Equal("unknown", cpu.Model);
        Assert.Empty(cpu.Flags);
    }

    [Fact]
    public void Meminfo_values_are_converted_from_kib_to_mib()
    {
        var memory = MemorySummary.Parse("MemTotal:       24683620 kB\nMemFree:        20472988 kB\nMemAvailable:   21250128 kB\nHugePages_Total:    1200\n");

        Assert.Equal(new MemorySummary(24105, 19993, 20752), memory);
    }

    [Fact]
    public void Hugepage_pools_come_one_per_sysfs_size_directory()
    {
        using var directory = new Support.TestDirectory();
        foreach (var (size, total, free) in new[] { ("1048576", "2", "1"), ("2048", "1200", "1072") })
        {
            var pool = Directory.CreateDirectory(Path.Combine(directory.Path, $"hugepages-{size}kB")).FullName;
            File.WriteAllText(Path.Combine(pool, "nr_hugepages"), total + "\n");
            File.WriteAllText(Path.Combine(pool, "free_hugepages"), free + "\n");
        }

        var pools = LinuxHostInventory.ReadHugepagePools(directory.Path);

        Assert.Equal([new HugepagePool(2048, 1200, 1072), new HugepagePool(1048576, 2, 1)], pools);
        Assert.Equal(2144, pools[0].FreeMiB);
        Assert.Empty(LinuxHostInventory.ReadHugepagePools(directory.File("missing")));
    }
}
