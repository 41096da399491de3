using Ferry.Domain.Guests;
using Ferry.Domain.Hosts;
using Ferry.Domain.Placement;

namespace Ferry.Domain.Tests.Placement;

public sealed class PlacementRulesTests
{
    private static readonly HostCapabilities Haswell = new()
    {
        CpuModel = "qemu64", CpuFlags = ["sse2", "avx2"], Kvm = true, MemoryFreeMiB = 16384,
        Hugepages = [new HugepagePool(2048, 2048, 1024)],
    };

    private static Host NewHost(string name, HostCapabilities? caps = null) => Host.Create(name, "10.0.0.1", caps ?? Haswell);

    private static Guest NewGuest(Host on, int memoryMiB = 1024, long? hugepages = null) =>
        Guest.Define("vnf", memoryMiB, 2, on.Id, hugepages);

    [Fact]
    public void The_least_busy_compatible_host_is_chosen()
    {
        var a = NewHost("a");
        var guest = NewGuest(a);
        var decision = PlacementRules.Choose(guest, a, [new(NewHost("b"), 2, 1), new(NewHost("c"), 0, 0), new(NewHost("d"), 1, 0)]);
        Assert.Equal("c", decision.Target?.Name);
    }

    [Fact]
    public void Ties_are_broken_by_name_so_the_choice_is_stable()
    {
        var a = NewHost("a");
        var decision = PlacementRules.Choose(NewGuest(a), a, [new(NewHost("z"), 0, 0), new(NewHost("m"), 0, 0)]);
        Assert.Equal("m", decision.Target?.Name);
    }

    [Fact]
    public void The_source_is_never_a_target()
    {
        var a = NewHost("a");
        var decision = PlacementRules.Choose(NewGuest(a), a, [new(a, 0, 0)]);
        Assert.Null(decision.Target);
        Assert.Equal("no target host: there is no other host", decision.Explain());
    }

    [Fact]
    public void Draining_and_down_hosts_are_refused_with_their_state()
    {
        var a = NewHost("a");
        var draining = NewHost("b");
        draining.Drain();
        var down = NewHost("c");
        down.MarkDown();
        var decision = PlacementRules.Choose(NewGuest(a), a, [new(draining, 0, 0), new(down, 0, 0)]);
        Assert.Null(decision.Target);
        Assert.Equal("no target host fits: b: is draining; c: is down", decision.Explain());
    }

    [Fact]
    public void A_host_missing_a_cpu_flag_the_source_offers_is_refused()
    {
        var a = NewHost("a", Haswell with { CpuFlags = ["sse2", "avx2", "avx512f"] });
        var reason = PlacementRules.Reject(NewGuest(a), a, NewHost("b"));
        Assert.Equal("lacks CPU flags avx512f", reason);
    }

    [Fact]
    public void A_different_cpu_model_or_missing_kvm_is_refused()
    {
        var a = NewHost("a");
        Assert.Contains("CPU model", PlacementRules.Reject(NewGuest(a), a, NewHost("b", Haswell with { CpuModel = "EPYC" })));
        Assert.Equal("has no usable KVM", PlacementRules.Reject(NewGuest(a), a, NewHost("c", Haswell with { Kvm = false })));
    }

    [Fact]
    public void A_hugepage_guest_needs_free_hugepages_of_its_size()
    {
        var a = NewHost("a");
        var guest = NewGuest(a, memoryMiB: 4096, hugepages: 2048);
        Assert.Equal("has 2048 MiB of free 2 MiB hugepages, the guest needs 4096 MiB", PlacementRules.Reject(guest, a, NewHost("b")));
        Assert.Null(PlacementRules.Reject(NewGuest(a, 2048, 2048), a, NewHost("c")));
    }

    [Fact]
    public void An_ordinary_guest_needs_free_memory()
    {
        var a = NewHost("a");
        var reason = PlacementRules.Reject(NewGuest(a, memoryMiB: 20000), a, NewHost("b"));
        Assert.Equal("has 16384 MiB free memory, the guest needs 20000 MiB", reason);
    }
}
