using System.Diagnostics.CodeAnalysis;

namespace Ferry.Transfer.Interop;

/// <summary>Throw helpers for failed system calls, kept out of line so callers stay small.</summary>
internal static class NativeError
{
    [DoesNotReturn]
    public static void Throw(string operation) => Throw(operation, Libc.LastError);

    [DoesNotReturn]
    public static void Throw(string operation, int errno) =>
        throw new IOException($"{operation} failed: {Libc.Describe(errno)}", errno);
}
