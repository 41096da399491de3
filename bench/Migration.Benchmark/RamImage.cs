using System.Diagnostics;
using System.Globalization;

namespace Ferry.Migration.Benchmark;

/// <summary>
/// The one RAM image of a run set, a sparse file on /dev/shm: what a freshly booted idle QEMU guest's
/// RAM holds (SeaBIOS finds no boot device and idles), with the workload's state header and, for
/// l2fwd, its initialised mbuf pool and rings written on top by the workload itself. Every run copies
/// it, holes kept, into the QEMU source's memory-backend-file and into the engine source's RAM file,
/// so both sources start with the same bytes and the same zero/non-zero page layout.
/// </summary>
internal sealed class RamImage
{
    private RamImage(string path, BenchmarkGuestProfile profile, long allocatedBytes)
    {
        Path = path;
        Profile = profile;
        AllocatedBytes = allocatedBytes;
    }

    public string Path { get; }

    public BenchmarkGuestProfile Profile { get; }

    public byte[]? BootSector => Profile.BootSector;

    /// <summary>Bytes the image really occupies (its non-hole pages).</summary>
    public long AllocatedBytes { get; }

    public static async Task<RamImage> BuildAsync(BenchmarkHost host, BenchmarkGuestProfile profile, CancellationToken cancellationToken)
    {
        string booted = host.ShmFile("boot"), image = host.ShmFile("image");
        try
        {
            await using (var qemu = await QemuInstance.StartAsync(host, "imgboot", booted, null, incoming: false, netns: null, cancellationToken))
            {
                await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken); // SeaBIOS under TCG gives up on booting within this
                await Agent.Qmp.QmpCommands.StopAsync(qemu.Qmp, cancellationToken);
                await CopyAsync(booted, image, cancellationToken);
            }

            using (var workload = await WorkloadGuest.StartAsync(host, image, [.. profile.WorkloadArguments, "--start-paused", "--no-track"]))
            {
                // Initialising writes the profile's state (header; mbufs and rings for l2fwd) into the image.
            }

            await CopyAsync(image, booted, cancellationToken);
            File.Move(booted, image, overwrite: true); // re-sparsified: cp punches the zero pages the workload touched
            return new RamImage(image, profile, AllocatedBytesOf(image));
        }
        finally
        {
            File.Delete(booted);
        }
    }

    /// <summary>Copies the image, holes kept (cp --sparse=always also punches zero blocks), to a guest's RAM file.</summary>
    public Task CopyToAsync(string destination, CancellationToken cancellationToken) => CopyAsync(Path, destination, cancellationToken);

    public static long AllocatedBytesOf(string path)
    {
        var info = Process.Start(new ProcessStartInfo("stat", ["-c", "%b %B", path]) { RedirectStandardOutput = true })!;
        string[] words = info.StandardOutput.ReadToEnd().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        info.WaitForExit();
        return long.Parse(words[0], CultureInfo.InvariantCulture) * long.Parse(words[1], CultureInfo.InvariantCulture);
    }

    private static async Task CopyAsync(string from, string to, CancellationToken cancellationToken)
    {
        using var cp = Process.Start(new ProcessStartInfo("cp", ["--sparse=always", from, to]) { RedirectStandardError = true })!;
        await cp.WaitForExitAsync(cancellationToken);
        if (cp.ExitCode != 0)
        {
            throw new IOException($"cp {from} {to}: {await cp.StandardError.ReadToEndAsync(cancellationToken)}");
        }
    }
}
