namespace Ferry.Agent.Migration.Transports.Native;

/// <summary>How the native transport runs on this agent, section <c>Ferry:Native</c>.</summary>
public sealed record NativeTransportOptions
{
    public const string Section = "Ferry:Native";

    /// <summary>
    /// After every native switch-over, before the source is stopped, compares the frozen source RAM with
    /// what was last sent of each page, and fails the migration (the guest at the target) on a page the
    /// target never got. Off by default (it hashes every page sent and reads the RAM once more in the
    /// deferred cleanup); the tests run with it on.
    /// </summary>
    public bool VerifyRam { get; init; }
}
