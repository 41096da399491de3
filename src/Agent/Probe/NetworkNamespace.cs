using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using Ferry.Transfer.Interop;

namespace Ferry.Agent.Probe;

/// <summary>
/// Runs code inside a named network namespace (<c>ip netns add NAME</c>). setns changes only the
/// calling thread, so the code runs on a throwaway thread; sockets it opens stay in the namespace
/// and can be used from any thread afterwards.
/// </summary>
internal static class NetworkNamespace
{
    public const string Directory = "/var/run/netns";

    public static T Run<T>(string? name, Func<T> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (name is null)
        {
            return action();
        }

        if (name.Length == 0 || name.Contains('/', StringComparison.Ordinal) || name is "." or "..")
        {
            throw new ArgumentException($"'{name}' is not a network namespace name.", nameof(name));
        }

        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle(Path.Combine(Directory, name));
                if (Libc.SetNs(handle, Libc.CloneNewNet) != 0)
                {
                    throw new IOException($"Cannot enter network namespace '{name}': {Libc.Describe(Marshal.GetLastPInvokeError())}");
                }

                result = action();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        })
        {
            IsBackground = true,
            Name = $"netns {name}",
        };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }
}
