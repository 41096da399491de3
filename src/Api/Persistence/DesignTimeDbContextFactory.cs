using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Ferry.Api.Persistence;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without a running database.</summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<FerryDbContext>
{
    public FerryDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<FerryDbContext>();
        PersistenceExtensions.Configure(options, "Host=localhost;Database=ferry_design");
        return new FerryDbContext(options.Options);
    }
}
