using System.Text.Encodings.Web;
using System.Text.Json;
using Spectre.Console;

namespace Ferry.Cli.Output;

/// <summary>
/// Where a command writes: tables and live displays through Spectre.Console, JSON and plain lines
/// straight to stdout (never wrapped), messages to stderr.
/// </summary>
internal sealed class Terminal
{
    /// <summary>Tables written to a file or a pipe are not wrapped at 80 columns.</summary>
    private const int RedirectedWidth = 200;

    private static readonly JsonSerializerOptions Indented = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        // Hosts' and guests' names are [a-z0-9-]; free text (notes, reasons) stays readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly JsonSerializerOptions OneLine = new(Indented) { WriteIndented = false };

    private Terminal(IAnsiConsole console, TextWriter output, TextWriter error, bool isLive)
    {
        Console = console;
        Output = output;
        Error = error;
        IsLive = isLive;
    }

    /// <summary>Tables, markup and live displays.</summary>
    public IAnsiConsole Console { get; }

    /// <summary>stdout, for text that must arrive as written (JSON).</summary>
    public TextWriter Output { get; }

    public TextWriter Error { get; }

    /// <summary>stdout is a terminal that draws ANSI: progress redraws in place instead of printing a line per change.</summary>
    public bool IsLive { get; }

    public static Terminal ForProcess()
    {
        var output = System.Console.Out;
        var redirected = System.Console.IsOutputRedirected;
        // Redirected output is for a file or another program: no escape sequences in it, whatever TERM says.
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = redirected ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = redirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = InteractionSupport.Detect,
            Out = new AnsiConsoleOutput(output),
        });
        if (redirected)
        {
            console.Profile.Width = RedirectedWidth;
        }

        return new Terminal(console, output, System.Console.Error, !redirected && console.Profile.Capabilities.Ansi);
    }

    public void WriteJson<T>(T value) => Output.WriteLine(JsonSerializer.Serialize(value, Indented));

    /// <summary>One JSON document per line (a stream of events).</summary>
    public void WriteJsonLine<T>(T value)
    {
        Output.WriteLine(JsonSerializer.Serialize(value, OneLine));
        Output.Flush();
    }

    public void WriteLine(string text) => Output.WriteLine(text);
}
