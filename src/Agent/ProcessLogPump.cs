using System.Diagnostics;

namespace Ferry.Agent;

/// <summary>Copies a child process's stdout and stderr into one log file as they arrive, until both close.</summary>
internal static class ProcessLogPump
{
    public static async Task RunAsync(Process process, string path)
    {
        await using var log = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 4096, useAsync: true);
        using var gate = new SemaphoreSlim(1, 1);
        async Task CopyAsync(StreamReader from)
        {
            var buffer = new char[4096];
            int read;
            while ((read = await from.ReadAsync(buffer)) > 0)
            {
                var bytes = System.Text.Encoding.UTF8.GetBytes(buffer, 0, read);
                await gate.WaitAsync();
                try
                {
                    await log.WriteAsync(bytes);
                    await log.FlushAsync();
                }
                finally
                {
                    gate.Release();
                }
            }
        }

        await Task.WhenAll(CopyAsync(process.StandardOutput), CopyAsync(process.StandardError));
    }
}
