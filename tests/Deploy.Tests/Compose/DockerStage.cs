namespace Ferry.Deploy.Tests.Compose;

/// <summary>One stage of a Dockerfile: its base image, its name (<c>AS</c>), and its instructions.</summary>
public sealed record DockerStage(string From, string? Name, IReadOnlyList<DockerInstruction> Instructions)
{
    public IEnumerable<string> Arguments(string keyword) => Instructions.Where(i => i.Keyword == keyword).Select(i => i.Arguments);
}

