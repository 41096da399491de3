using Microsoft.Extensions.Options;

namespace Ferry.Agent.Qemu;

/// <summary>With <c>Ferry:Qemu:RequireRunAs</c>, an agent whose QEMUs could not drop to <c>Ferry:Qemu:RunAs</c> does not start, and says why.</summary>
internal sealed class QemuRunAsValidation : IValidateOptions<QemuLauncherOptions>
{
    public ValidateOptionsResult Validate(string? name, QemuLauncherOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.RequireRunAs && QemuRunAs.Resolve(options).Problem is { } problem
            ? ValidateOptionsResult.Fail($"Ferry:Qemu:RequireRunAs is set and QEMU cannot run as '{options.RunAs}': {problem}.")
            : ValidateOptionsResult.Success;
    }
}
