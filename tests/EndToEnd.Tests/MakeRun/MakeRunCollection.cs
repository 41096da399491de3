namespace Ferry.EndToEnd.Tests.MakeRun;

/// <summary>
/// make run takes fixed things of the machine (ports 5080 and 5433, namespaces ferry-a and ferry-b,
/// 10.77.0.0/24, two OVS-DPDK switches' hugepages): its tests run one at a time, after the others.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MakeRunCollection
{
    public const string Name = "make-run";
}
