using System.Reflection;
using System.Security.Cryptography;
using Microsoft.Net.Http.Headers;

namespace Ferry.Api.Dashboard;

/// <summary>One file of the dashboard, embedded in the assembly at build time (Api.csproj, target <c>DashboardEmbed</c>).</summary>
internal sealed record DashboardAsset(string Name, string ContentType, byte[] Content, EntityTagHeaderValue ETag)
{
    /// <summary>The embedded file <c>Dashboard/<paramref name="name"/></c>, or null when the build did not embed it.</summary>
    public static DashboardAsset? Load(string name, string contentType)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Dashboard/" + name);
        if (stream is null)
        {
            return null;
        }

        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        var content = copy.ToArray();
        // A strong validator from the content: a rebuilt API serves a changed file, an unchanged one answers 304.
        var etag = new EntityTagHeaderValue($"\"{Convert.ToHexStringLower(SHA256.HashData(content), 0, 16)}\"");
        return new DashboardAsset(name, contentType, content, etag);
    }
}
