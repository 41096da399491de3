namespace Ferry.Api.Security;

/// <summary>What a client may do. Each scope includes the ones before it.</summary>
public static class Scopes
{
    public const string Read = "read";
    public const string Migrate = "migrate";
    public const string Admin = "admin";

    public const string ClaimType = "ferry:scope";

    /// <summary>The scopes that grant <paramref name="needed"/>.</summary>
    public static IReadOnlyList<string> Granting(string needed) => needed switch
    {
        Read => [Read, Migrate, Admin],
        Migrate => [Migrate, Admin],
        _ => [Admin],
    };

    public static bool IsKnown(string scope) => scope is Read or Migrate or Admin;
}
