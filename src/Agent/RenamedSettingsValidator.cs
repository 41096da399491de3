using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Ferry.Agent;

/// <summary>
/// Until 2026-12 the agent read its settings from sections without the <c>Ferry:</c> prefix the API's have
/// (<c>Agent</c>, <c>Qemu</c>, <c>Qmp</c>, <c>Ovs</c>, <c>Inventory</c>, <c>Probe</c>, <c>Native</c>,
/// <c>Agent:Testing</c>). A setting left under its old name would now be ignored, and the agent would start with
/// the default in its place (another host name, another API, its own OVS instead of the host's): it refuses to
/// start instead, and names the key to use.
/// </summary>
internal sealed class RenamedSettingsValidator(IConfiguration configuration) : IValidateOptions<AgentOptions>
{
    private static readonly string[] OldSections = ["Agent", "Qemu", "Qmp", "Ovs", "Inventory", "Probe", "Native"];

    public ValidateOptionsResult Validate(string? name, AgentOptions options)
    {
        var old = configuration.AsEnumerable()
            .Where(kv => kv.Value is not null && OldSections.Any(s => kv.Key.StartsWith(s + ConfigurationPath.KeyDelimiter, StringComparison.OrdinalIgnoreCase)))
            .Select(kv => kv.Key)
            .Order(StringComparer.OrdinalIgnoreCase)
            .ToList();
        return old.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(old.Select(key =>
                $"{key} is no longer read: the agent's settings moved under Ferry: (issue 15); set {NewName(key)} instead (environment: {NewName(key).Replace(ConfigurationPath.KeyDelimiter, "__", StringComparison.Ordinal)})."));
    }

    /// <summary>The key a setting has now: <c>Qemu:RunAs</c> is <c>Ferry:Qemu:RunAs</c>; the agent's test hooks share the API's <c>Ferry:Testing</c>.</summary>
    public static string NewName(string oldKey)
    {
        ArgumentNullException.ThrowIfNull(oldKey);
        const string testing = "Agent:Testing:";
        return oldKey.StartsWith(testing, StringComparison.OrdinalIgnoreCase)
            ? "Ferry:Testing:" + oldKey[testing.Length..]
            : "Ferry:" + oldKey;
    }
}
