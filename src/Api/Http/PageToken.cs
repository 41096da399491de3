using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace Ferry.Api.Http;

/// <summary>Keyset paging: the token carries the sort key of the last item served, (created at, id).</summary>
internal readonly record struct PageToken(DateTimeOffset CreatedAt, Guid Id)
{
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[24];
        BinaryPrimitives.WriteInt64BigEndian(bytes, CreatedAt.UtcTicks);
        Id.TryWriteBytes(bytes[8..], bigEndian: true, out _);
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public static bool TryParse(string? text, [NotNullWhen(true)] out PageToken? token)
    {
        token = null;
        if (string.IsNullOrEmpty(text) || text.Length > 64)
        {
            return false;
        }

        var base64 = text.Replace('-', '+').Replace('_', '/');
        base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
        Span<byte> bytes = stackalloc byte[48];
        if (!Convert.TryFromBase64String(base64, bytes, out var written) || written != 24)
        {
            return false;
        }

        var ticks = BinaryPrimitives.ReadInt64BigEndian(bytes);
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            return false;
        }

        token = new PageToken(new DateTimeOffset(ticks, TimeSpan.Zero), new Guid(bytes[8..24], bigEndian: true));
        return true;
    }
}
