using Ferry.Dashboard.Tests.Support;
using Ferry.Testing;

[assembly: AssemblyFixture(typeof(PostgresServer))]
[assembly: AssemblyFixture(typeof(Chromium))]
