using Ferry.Transfer.Dirty;
using Ferry.Transfer.Memory;

namespace Ferry.Transfer.Tests.Dirty;

[Trait("Tier", "fast")]
public sealed class DirtyPageSetTests
{
    [Fact]
    public void Ranges_across_word_boundaries_come_back_as_maximal_runs()
    {
        var set = new DirtyPageSet(200);
        set.Add(new PageRange(60, 10));
        set.Add(new PageRange(70, 58));
        set.Add(3);
        set.Add(new PageRange(190, 50)); // clipped to the RAM

        Assert.Equal([new PageRange(3, 1), new PageRange(60, 68), new PageRange(190, 10)], set.ToRanges());
        Assert.Equal(79, set.Count);
        Assert.True(set.Contains(127));
        Assert.False(set.Contains(128));
        Assert.False(set.Contains(200));
    }

    [Fact]
    public void Union_and_clear_behave_as_sets()
    {
        var a = new DirtyPageSet(130);
        var b = new DirtyPageSet(130);
        a.Add(1);
        b.Add(129);
        a.UnionWith(b);

        Assert.Equal([new PageRange(1, 1), new PageRange(129, 1)], a.ToRanges());
        a.Clear();
        Assert.Empty(a.ToRanges());
        Assert.Throws<ArgumentException>(() => a.UnionWith(new DirtyPageSet(131)));
    }
}
