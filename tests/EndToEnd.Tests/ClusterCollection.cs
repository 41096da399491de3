namespace Ferry.EndToEnd.Tests;

/// <summary>
/// One <see cref="TwoHostCluster"/> for every end-to-end class: the cluster takes fixed namespaces, addresses
/// and ports, so two could not run side by side, and starting one costs more than most tests.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<TwoHostCluster>
{
    public const string Name = "two-host cluster";
}
