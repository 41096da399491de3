using Microsoft.Extensions.Options;

namespace Ferry.Agent.Qemu;

/// <summary>
/// The checks of <see cref="QemuLauncherOptions"/> the settings alone decide, each failure naming its key;
/// whether QEMU can drop to <c>Ferry:Qemu:RunAs</c> on this machine is <see cref="QemuRunAsValidation"/>'s.
/// </summary>
internal sealed class QemuLauncherOptionsValidator : IValidateOptions<QemuLauncherOptions>
{
    private const string S = QemuLauncherOptions.Section;

    public ValidateOptionsResult Validate(string? name, QemuLauncherOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (!Path.IsPathRooted(options.RunDirectory) || !Path.IsPathRooted(options.TmpfsDirectory) || !Path.IsPathRooted(options.HugetlbfsDirectory))
        {
            failures.Add($"{S}:RunDirectory, {S}:TmpfsDirectory and {S}:HugetlbfsDirectory must be absolute paths.");
        }

        if (options.ForwardingGuestImage.Length > 0 && !Path.IsPathRooted(options.ForwardingGuestImage))
        {
            failures.Add($"{S}:ForwardingGuestImage must be absolute.");
        }

        if (options.ForwarderReadyTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{S}:ForwarderReadyTimeout must be positive.");
        }

        // An instance's QMP and vhost-user sockets live under it, and UNIX socket paths are limited to 108 bytes.
        if (options.RunDirectory.Length >= 60)
        {
            failures.Add($"{S}:RunDirectory must be short: UNIX socket paths are limited to 108 bytes.");
        }

        if (options.RequireRunAs && options.RunAs.Length == 0)
        {
            failures.Add($"{S}:RequireRunAs needs {S}:RunAs.");
        }

        return failures.Count > 0 ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
    }
}
