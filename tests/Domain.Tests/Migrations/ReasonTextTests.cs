using Ferry.Domain.Migrations;

namespace Ferry.Domain.Tests.Migrations;

public sealed class ReasonTextTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(ReasonText.MaxLength)]
    public void A_reason_that_fits_is_kept_as_it_is(int length)
    {
        var reason = new string('a', length);

        Assert.Same(reason, ReasonText.Bound(reason));
    }

    [Theory]
    [InlineData(ReasonText.MaxLength + 1)]
    [InlineData(ReasonText.MaxLength * 10)]
    [InlineData(1_000_000)]
    public void A_longer_reason_is_cut_to_the_limit_and_says_how_long_it_was(int length)
    {
        var bounded = ReasonText.Bound(new string('a', length));

        Assert.Equal(ReasonText.MaxLength, bounded.Length);
        Assert.EndsWith($" … [truncated: {length} characters in all]", bounded, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cut_never_splits_a_surrogate_pair()
    {
        // "𝄞" is two UTF-16 units: a cut between them would store half a character.
        var bounded = ReasonText.Bound(string.Concat(Enumerable.Repeat("𝄞", ReasonText.MaxLength)));

        var kept = bounded[..bounded.IndexOf(" … [truncated", StringComparison.Ordinal)];
        Assert.False(char.IsHighSurrogate(kept[^1]));
        Assert.Equal(0, kept.Length % 2);
    }
}
