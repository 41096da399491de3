using System.Text.RegularExpressions;

namespace Ferry.Cli.Tests.Support;

/// <summary>
/// Runs <c>ferry</c> in a pseudo-terminal, as an operator's shell does: util-linux's <c>script</c> gives it a
/// pty for stdout (so it draws its live display) and copies everything drawn, escape sequences included.
/// </summary>
public static partial class PseudoTerminal
{
    public const string Script = "/usr/bin/script";

    /// <summary>The argument list for <c>script</c> running <paramref name="args"/> (each quoted for the shell <c>script -c</c> uses).</summary>
    /// <param name="fileName">The program.</param>
    /// <param name="args">Its arguments.</param>
    /// <param name="columns">The terminal's width, set with stty as a terminal emulator sets it; without it the pty
    /// has no size at all (script's own input is no terminal) and Spectre.Console draws 80 columns wide.</param>
    public static IReadOnlyList<string> Wrap(string fileName, IEnumerable<string> args, int? columns = null)
    {
        if (!File.Exists(Script))
        {
            Assert.Fail($"{Script} (util-linux) is missing: the live display is checked in a pseudo-terminal it provides; apt-get install bsdutils");
        }

        var command = (columns is { } c ? $"stty cols {c} rows 40; exec " : "exec ") + string.Join(' ', new[] { fileName }.Concat(args).Select(Quote));
        // -q: no "Script started" banner; -f: flush as written; -e: its exit code is ferry's; -c: the command; /dev/null: no typescript file.
        return ["-qfec", command, "/dev/null"];
    }

    /// <summary>What a terminal would show, without the escape sequences that drew it.</summary>
    public static string Visible(string raw) => Escapes().Replace(raw, "").Replace("\r", "", StringComparison.Ordinal);

    private static string Quote(string arg) => "'" + arg.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    [GeneratedRegex(@"\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07]*\x07|[()][0-9A-B]|[=>78])")]
    private static partial Regex Escapes();
}
