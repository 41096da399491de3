using System.CommandLine.Parsing;

namespace Ferry.Cli;

/// <summary>Values as a validator reads them: a value that did not even parse is left to the parser's own error.</summary>
internal static class ParsedValues
{
    /// <summary>
    /// The value <paramref name="result"/> holds, or false when its text is not a <typeparamref name="T"/>:
    /// System.CommandLine runs validators on such values too, and reading one throws (seen with
    /// <c>--bandwidth-mbps lots</c> in Cli.Tests: an unhandled exception, exit 134, instead of exit 2).
    /// </summary>
    public static bool TryGet<T>(this OptionResult result, out T value)
    {
        try
        {
            value = result.GetValueOrDefault<T>();
            return true;
        }
        catch (InvalidOperationException)
        {
            value = default!;
            return false;
        }
    }

    /// <inheritdoc cref="TryGet{T}(OptionResult, out T)"/>
    public static bool TryGet<T>(this CommandResult result, System.CommandLine.Option<T> option, out T value)
    {
        try
        {
            value = result.GetValue(option)!;
            return true;
        }
        catch (InvalidOperationException)
        {
            value = default!;
            return false;
        }
    }
}
