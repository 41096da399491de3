using Ferry.Agent.Ovs;

namespace Ferry.Agent.Tests.Ovs;

[Trait("Tier", "fast")]
public sealed class OvsNameTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("br-ferry")]
    [InlineData("vhu-demo-0")]
    [InlineData("abcdefghijklmno")]
    public void Short_lower_case_names_with_digits_and_dashes_are_valid(string name) =>
        Assert.Equal(name, OvsName.Validate(name, "port"));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("abcdefghijklmnop")]
    [InlineData("a,b")]
    [InlineData("../x")]
    [InlineData("x/y")]
    [InlineData("x;rm")]
    [InlineData("a\0b")]
    [InlineData("a.b")]
    [InlineData("a:b")]
    [InlineData("UP")]
    [InlineData("tab\t")]
    [InlineData("vhu\n")]
    public void Names_that_could_break_an_argument_a_path_or_a_device_name_are_refused(string? name)
    {
        var failure = Assert.Throws<ArgumentException>(() => OvsName.Validate(name, "port"));

        Assert.DoesNotContain('\0', failure.Message);
        Assert.False(OvsName.IsValid(name));
    }
}
