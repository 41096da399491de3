namespace Ferry.Api.Persistence;

/// <summary>One key of the ASP.NET Core Data Protection key ring, as the XML the key manager writes.</summary>
internal sealed class DataProtectionKey
{
    public int Id { get; set; }

    public string? FriendlyName { get; set; }

    public string Xml { get; set; } = "";
}
