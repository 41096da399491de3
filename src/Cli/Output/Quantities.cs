using System.Globalization;

namespace Ferry.Cli.Output;

/// <summary>Measurements as an operator reads them: binary units, milliseconds, rates; "-" for what is not known.</summary>
internal static class Quantities
{
    public const string Unknown = "-";

    private static readonly string[] ByteUnits = ["B", "KiB", "MiB", "GiB", "TiB"];

    public static string Bytes(long? bytes)
    {
        if (bytes is not { } b)
        {
            return Unknown;
        }

        double value = b;
        var unit = 0;
        while (Math.Abs(value) >= 1024 && unit < ByteUnits.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0 ? $"{b} B" : string.Create(CultureInfo.InvariantCulture, $"{value:0.0} {ByteUnits[unit]}");
    }

    public static string Milliseconds(double? ms) =>
        ms is { } v ? string.Create(CultureInfo.InvariantCulture, $"{v:#,0.##} ms") : Unknown;

    public static string Mbps(double? mbps) =>
        mbps is { } v ? string.Create(CultureInfo.InvariantCulture, $"{v:#,0.#} Mbit/s") : Unknown;

    public static string PagesPerSecond(double? pages) =>
        pages is { } v ? string.Create(CultureInfo.InvariantCulture, $"{v:#,0} pages/s") : Unknown;

    public static string Percent(double? fraction) =>
        fraction is { } f ? string.Create(CultureInfo.InvariantCulture, $"{f * 100:0.#}%") : Unknown;

    public static string Count(long? n) => n is { } v ? v.ToString("#,0", CultureInfo.InvariantCulture) : Unknown;

    public static string Time(DateTimeOffset? at) =>
        at is { } t ? t.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : Unknown;

    public static string ClockTime(DateTimeOffset? at) =>
        at is { } t ? t.ToLocalTime().ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture) : Unknown;

    public static string Mebibytes(long? mib) => mib is { } v ? Bytes(v * 1024 * 1024) : Unknown;
}
