using Microsoft.Extensions.Options;

namespace Ferry.Agent;

/// <summary>The checks of <see cref="AgentOptions"/> that data annotations cannot express, with a message that says what to fix.</summary>
internal sealed class AgentOptionsValidator : IValidateOptions<AgentOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Problem() is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
    }
}
