using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Ferry.Agent.Tests.Support;

/// <summary>The server side of one fake QMP connection; tests script it to misbehave on purpose.</summary>
internal sealed class FakeQmpPeer(Socket socket) : IDisposable
{
    public const string Greeting = """{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "fake"}, "capabilities": ["oob"]}}""";

    private readonly NetworkStream _stream = new(socket, ownsSocket: true);
    private readonly List<byte> _pendingBytes = [];

    public async Task SendAsync(string raw)
    {
        await _stream.WriteAsync(Encoding.UTF8.GetBytes(raw));
        await _stream.FlushAsync();
    }

    public Task SendLineAsync(string json) => SendAsync(json + "\r\n");

    /// <summary>Reads the next command; null when the client closed.</summary>
    public async Task<JsonElement?> ReadCommandAsync(CancellationToken cancellationToken = default)
    {
        var buffer = new byte[4096];
        while (true)
        {
            var newline = _pendingBytes.IndexOf((byte)'\n');
            if (newline >= 0)
            {
                var line = _pendingBytes.Take(newline).ToArray();
                _pendingBytes.RemoveRange(0, newline + 1);
                return JsonDocument.Parse(line).RootElement.Clone();
            }

            int read;
            try
            {
                read = await _stream.ReadAsync(buffer, cancellationToken);
            }
            catch (IOException)
            {
                return null;
            }

            if (read == 0)
            {
                return null;
            }

            _pendingBytes.AddRange(buffer.AsSpan(0, read).ToArray());
        }
    }

    public async Task<JsonElement> ExpectAsync(string command)
    {
        var received = await ReadCommandAsync() ?? throw new InvalidOperationException($"Client closed while '{command}' was expected.");
        Assert.Equal(command, received.GetProperty("execute").GetString());
        return received;
    }

    public Task ReplyAsync(JsonElement command, string returnJson = "{}") =>
        SendLineAsync($$"""{"return": {{returnJson}}, "id": {{command.GetProperty("id").GetRawText()}}}""");

    public Task ReplyErrorAsync(JsonElement command, string errorClass, string description) =>
        SendLineAsync(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["error"] = new Dictionary<string, string> { ["class"] = errorClass, ["desc"] = description },
            ["id"] = command.GetProperty("id").GetInt64(),
        }));

    public Task SendEventAsync(string name, string dataJson = "{}") =>
        SendLineAsync($$"""{"timestamp": {"seconds": 1700000000, "microseconds": 5}, "event": "{{name}}", "data": {{dataJson}}}""");

    /// <summary>Greeting plus the capabilities negotiation, as QEMU does it.</summary>
    public async Task HandshakeAsync()
    {
        await SendLineAsync(Greeting);
        var capabilities = await ExpectAsync("qmp_capabilities");
        await ReplyAsync(capabilities);
    }

    public void Close() => _stream.Dispose();

    public void Dispose() => _stream.Dispose();
}
