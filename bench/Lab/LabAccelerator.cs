using System.Text.Json;

namespace Ferry.Lab;

/// <summary>What the hosts say about how guests run, for the report's words.</summary>
internal static class LabAccelerator
{
    public static async Task<string> OfAsync(FerryApiClient api, CancellationToken ct)
    {
        var host = await api.GetHostAsync("host-a", ct);
        if (!host.Succeeded)
        {
            throw new LabAbortedException($"the API does not know host-a: {host.ProblemText} (the lab runs against `make run`'s two hosts)");
        }

        bool kvm = host.Body is { } h && h.TryGetProperty("capabilities", out var caps) && caps.TryGetProperty("kvm", out var k) && k.ValueKind == JsonValueKind.True;

        // Linux guests hang early under this nested KVM, so the forwarding guest runs under TCG either way (docs/architecture.md).
        return kvm ? "KVM where it works (Linux guests under TCG)" : "TCG (no KVM on the hosts)";
    }
}
