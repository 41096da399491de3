using Ferry.Dashboard.Tests.Infrastructure;
using Ferry.Testing;

[assembly: AssemblyFixture(typeof(PostgresServer))]
[assembly: AssemblyFixture(typeof(Chromium))]
