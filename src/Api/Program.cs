using Ferry.Api;
using Ferry.Api.Persistence;

var builder = WebApplication.CreateBuilder(args);
builder.AddFerryApi();

var app = builder.Build();
await app.ApplyFerrySchemaAsync();
app.UseFerryApi();
await app.RunAsync();

/// <summary>Entry point, visible to WebApplicationFactory.</summary>
public partial class Program;
