using Ferry.Testing;

[assembly: AssemblyFixture(typeof(PostgresServer))]
