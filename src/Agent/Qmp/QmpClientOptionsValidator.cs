using Microsoft.Extensions.Options;

namespace Ferry.Agent.Qmp;

/// <summary>The checks of <see cref="QmpClientOptions"/>: every limit of a QMP connection must be positive.</summary>
internal sealed class QmpClientOptionsValidator : IValidateOptions<QmpClientOptions>
{
    public ValidateOptionsResult Validate(string? name, QmpClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.CommandTimeout > TimeSpan.Zero && options.ConnectTimeout > TimeSpan.Zero && options.MaxMessageBytes >= 4096 && options.EventBufferCapacity > 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{QmpClientOptions.Section}:ConnectTimeout and {QmpClientOptions.Section}:CommandTimeout must be positive, {QmpClientOptions.Section}:MaxMessageBytes at least 4096, {QmpClientOptions.Section}:EventBufferCapacity at least 1.");
    }
}
