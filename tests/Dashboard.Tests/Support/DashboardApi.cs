using Ferry.Testing.Api;

namespace Ferry.Dashboard.Tests.Support;

/// <summary>
/// The real API as the dashboard's tests serve it. The clock is the machine's, because the page draws times
/// (charts over time, the Gantt of a migration's phases).
/// </summary>
internal static class DashboardApi
{
    public static LiveApi Start(string connectionString) => new LiveApi(connectionString, "dashboard-test")
    {
        Settings =
        {
            // The paced agents do not heartbeat: hosts stay up for as long as a test takes.
            ["Ferry:Agents:HeartbeatInterval"] = "00:10:00",
            // Every progress report becomes an event: a test paces the passes itself and waits for each on the page.
            ["Ferry:Events:ProgressInterval"] = "00:00:00",
        },
    }.Start();
}
