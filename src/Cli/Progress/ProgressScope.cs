namespace Ferry.Cli.Progress;

/// <summary>What to follow: one migration, or every migration (of a guest, of a host).</summary>
internal sealed record ProgressScope(Guid? Migration, string? Guest = null, string? Host = null)
{
    public static ProgressScope Of(Guid migration) => new(migration);

    /// <summary>The API's event stream for this scope (issue 14 §1).</summary>
    public string EventsPath => Migration is { } id ? $"/api/v1/migrations/{id}/events" : "/api/v1/events" + Filter;

    /// <summary>The REST resource polling reads for this scope.</summary>
    public string ResourcePath => Migration is { } id ? $"/api/v1/migrations/{id}" : "/api/v1/migrations" + Filter;

    private string Filter
    {
        get
        {
            var query = new List<string>();
            if (Guest is not null)
            {
                query.Add("guest=" + Uri.EscapeDataString(Guest));
            }

            if (Host is not null)
            {
                query.Add("host=" + Uri.EscapeDataString(Host));
            }

            return query.Count == 0 ? "" : "?" + string.Join('&', query);
        }
    }
}
