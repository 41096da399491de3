namespace Ferry.EndToEnd.Tests.MakeRun;

/// <summary>
/// Each test's make run has ports, namespaces and a subnet of its own (<see cref="MakeRunPlace"/>), but one tree
/// holds one make run (.ferry), and what they check after stopping (the hugepage reservation, the processes
/// naming the tree) is the machine's: they run one at a time, after the others.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MakeRunCollection
{
    public const string Name = "make-run";
}
