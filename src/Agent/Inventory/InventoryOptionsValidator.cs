using Microsoft.Extensions.Options;

namespace Ferry.Agent.Inventory;

/// <summary>The checks of <see cref="InventoryOptions"/>, each failure naming its key.</summary>
internal sealed class InventoryOptionsValidator : IValidateOptions<InventoryOptions>
{
    private const string S = InventoryOptions.Section;

    public ValidateOptionsResult Validate(string? name, InventoryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (!Path.IsPathRooted(options.HugepagesDirectory) || !Path.IsPathRooted(options.KvmDevice))
        {
            failures.Add($"{S}:HugepagesDirectory and {S}:KvmDevice must be absolute paths.");
        }

        if (options.VersionTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{S}:VersionTimeout must be positive.");
        }

        return failures.Count > 0 ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
    }
}
