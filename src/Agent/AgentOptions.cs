using System.ComponentModel.DataAnnotations;
using System.Net;

namespace Ferry.Agent;

/// <summary>Who this agent is and where it listens and reports, section <c>Ferry:Agent</c>.</summary>
public sealed class AgentOptions
{
    public const string Section = "Ferry:Agent";

    /// <summary>The host's name in the API; it also names the run directory, so it follows the resource-name rules.</summary>
    [Required]
    [RegularExpression("^[a-z0-9-]{1,63}$")]
    public string HostName { get; set; } = "localhost";

    /// <summary>The IP address migration traffic reaches this host on; targets listen on it.</summary>
    [Required]
    public string MigrationAddress { get; set; } = "127.0.0.1";

    /// <summary>Where the AgentService listens: <c>https://&lt;ip&gt;:&lt;port&gt;</c> with cluster TLS, <c>http://</c> only without (tests).</summary>
    [Required]
    public string GrpcUrl { get; set; } = "http://127.0.0.1:5090";

    /// <summary>The AgentService endpoint announced to the API; defaults to the address Kestrel bound.</summary>
    public string? AdvertisedUrl { get; set; }

    /// <summary>The API's ControlPlane gRPC endpoint.</summary>
    [Required]
    public string ApiUrl { get; set; } = "http://127.0.0.1:5080";

    /// <summary>Under this root every agent keeps its own directory, named after its host.</summary>
    [Required]
    public string RunRoot { get; set; } = "/run/ferry";

    /// <summary>Overrides <c>RunRoot/HostName</c>.</summary>
    public string? RunDirectory { get; set; }

    /// <summary>
    /// Under this root every agent keeps what must outlive a reboot (its result outbox), in a directory
    /// named after its host. Not under <see cref="RunRoot"/>: <c>/run</c> is a tmpfs, emptied by every boot,
    /// and a result written there before a host crash would be lost with the only record of a migration.
    /// </summary>
    [Required]
    public string StateRoot { get; set; } = "/var/lib/ferry";

    /// <summary>Overrides <c>StateRoot/HostName</c>.</summary>
    public string? StateDirectory { get; set; }

    /// <summary>How often the agent sends the API its heartbeat and inventory when the API's answer to its registration names no interval (the API's <c>Ferry:Agents:HeartbeatInterval</c> wins).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Deadline of every unary gRPC call the agent makes.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>First delay between attempts to reach the API; it doubles up to <see cref="RetryMaxDelay"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest delay between attempts to reach the API; not below <see cref="RetryBaseDelay"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long Cancel waits for the migration to settle before answering; below the API's call
    /// deadline, so the caller gets the real outcome rather than a timeout in the usual case.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan CancelSettleTimeout { get; set; } = TimeSpan.FromSeconds(5);

    // Derived values are methods, not properties: options validation reads every property, valid or not.
    public string ResolveRunDirectory() => string.IsNullOrEmpty(RunDirectory) ? Path.Combine(RunRoot ?? string.Empty, HostName ?? string.Empty) : RunDirectory;

    public string ResolveStateDirectory() => string.IsNullOrEmpty(StateDirectory) ? Path.Combine(StateRoot ?? string.Empty, HostName ?? string.Empty) : StateDirectory;

    /// <summary>Undelivered migration results, one file each, on persistent storage.</summary>
    public string ResolveOutboxDirectory() => Path.Combine(ResolveStateDirectory(), "outbox");

    /// <summary>Where the outbox was before it moved to <see cref="ResolveStateDirectory"/>; read once at start for what an older agent left.</summary>
    public string ResolveLegacyOutboxDirectory() => Path.Combine(ResolveRunDirectory(), "outbox");

    public IPAddress ResolveMigrationAddress() => IPAddress.Parse(MigrationAddress);

    /// <summary>The checks data annotations cannot express; null when the options are usable.</summary>
    public string? Problem()
    {
        if (!IPAddress.TryParse(MigrationAddress, out _))
        {
            return $"{Section}:MigrationAddress must be an IP address; got '{MigrationAddress}'.";
        }

        if (!TryParseListenUrl(GrpcUrl, out _))
        {
            return $"{Section}:GrpcUrl must be https://<ip>:<port> (or http:// without cluster TLS); got '{GrpcUrl}'.";
        }

        if (!Uri.TryCreate(ApiUrl, UriKind.Absolute, out var api) || (api.Scheme != Uri.UriSchemeHttp && api.Scheme != Uri.UriSchemeHttps))
        {
            return $"{Section}:ApiUrl must be an absolute http(s) URL; got '{ApiUrl}'.";
        }

        if (AdvertisedUrl is { Length: > 0 } advertised && !Uri.TryCreate(advertised, UriKind.Absolute, out _))
        {
            return $"{Section}:AdvertisedUrl must be an absolute URL; got '{advertised}'.";
        }

        if (!Path.IsPathRooted(ResolveRunDirectory()))
        {
            return $"{Section}:RunRoot and {Section}:RunDirectory must be absolute paths.";
        }

        if (!Path.IsPathRooted(ResolveStateDirectory()))
        {
            return $"{Section}:StateRoot and {Section}:StateDirectory must be absolute paths.";
        }

        return RetryMaxDelay < RetryBaseDelay ? $"{Section}:RetryMaxDelay must not be below {Section}:RetryBaseDelay." : null;
    }

    /// <summary>Kestrel binds an address, not a name: the URL's host must be an IP literal.</summary>
    public static bool TryParseListenUrl(string? url, out IPEndPoint endpoint) => TryParseListenUrl(url, out endpoint, out _);

    /// <summary>As <see cref="TryParseListenUrl(string?, out IPEndPoint)"/>, and whether the URL asks for TLS.</summary>
    public static bool TryParseListenUrl(string? url, out IPEndPoint endpoint, out bool tls)
    {
        endpoint = new IPEndPoint(IPAddress.Loopback, 0);
        tls = false;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.AbsolutePath != "/"
            || !IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address))
        {
            return false;
        }

        endpoint = new IPEndPoint(address, uri.Port);
        tls = uri.Scheme == Uri.UriSchemeHttps;
        return true;
    }
}
