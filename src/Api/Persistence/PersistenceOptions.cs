using System.ComponentModel.DataAnnotations;

namespace Ferry.Api.Persistence;

/// <summary>Database settings, section <c>Ferry:Persistence</c>; the connection string is <c>ConnectionStrings:Ferry</c>.</summary>
internal sealed class PersistenceOptions
{
    public const string Section = "Ferry:Persistence";

    /// <summary>Apply pending EF migrations when the API starts. Turn off where a release job migrates.</summary>
    public bool ApplyMigrationsOnStart { get; set; } = true;

    /// <summary>How long start-up waits for the database to accept connections.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan StartupWait { get; set; } = TimeSpan.FromSeconds(60);
}
