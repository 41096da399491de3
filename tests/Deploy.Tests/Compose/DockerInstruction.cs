namespace Ferry.Deploy.Tests.Compose;

/// <summary>An instruction: its keyword in upper case and the rest of its (joined) line.</summary>
public sealed record DockerInstruction(string Keyword, string Arguments);
