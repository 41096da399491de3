using Ferry.Agent;

var builder = WebApplication.CreateBuilder(args);
builder.AddFerryAgent();
var app = builder.Build();
app.MapFerryAgent();
await app.RunAsync();
