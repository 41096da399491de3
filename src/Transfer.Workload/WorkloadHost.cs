using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using Ferry.Transfer.Guest;
using Ferry.Transfer.Memory;
using Ferry.Transfer.Workload.Profiles;

namespace Ferry.Transfer.Workload;

/// <summary>Builds the profile over the RAM file and answers control commands.</summary>
internal static unsafe class WorkloadHost
{
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(30);

    public static IWorkloadProfile CreateProfile(GuestMemory memory, WorkloadOptions options)
    {
        var header = (StateHeader*)memory.Pointer;
        int profileId = Array.IndexOf(["idle", "random", "sweep", "l2fwd"], options.Profile);
        IWorkloadProfile profile = options.Profile switch
        {
            "random" => new RandomWriteProfile(memory, header, options.DirtyRate),
            "sweep" => new SweepProfile(memory, header, options.DirtyRate),
            "l2fwd" => new L2ForwardProfile(memory, header, options.RateMbit),
            _ => new IdleProfile(),
        };

        if (options.Resume)
        {
            if (header->Magic != StateHeader.ExpectedMagic || header->ProfileId != profileId)
            {
                throw new InvalidDataException("The RAM file holds no state of this profile to resume.");
            }
        }
        else
        {
            header->Magic = StateHeader.ExpectedMagic;
            header->ProfileId = profileId;
            header->Steps = 0;
            profile.Initialise();
        }

        return profile;
    }

    /// <summary>
    /// JIT-compiles the pause, resume and start paths ahead of time: they first run inside the
    /// migration's downtime, where a cold JIT would cost milliseconds.
    /// </summary>
    public static void PrepareControlPaths()
    {
        Type[] types = [typeof(WorkloadHost), typeof(ProfileRunner), typeof(IdleProfile), typeof(RandomWriteProfile),
            typeof(SweepProfile), typeof(L2ForwardProfile), typeof(Pacer), typeof(GuestControlWord)];
        foreach (var type in types)
        {
            const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            foreach (var method in type.GetMethods(All).Where(m => !m.IsAbstract && !m.ContainsGenericParameters))
            {
                RuntimeHelpers.PrepareMethod(method.MethodHandle);
            }

            foreach (var constructor in type.GetConstructors(All))
            {
                RuntimeHelpers.PrepareMethod(constructor.MethodHandle);
            }
        }

        // The start path's closures (the profile factory) are compiler-generated nested types.
        foreach (var method in typeof(WorkloadHost).GetNestedTypes(BindingFlags.NonPublic).SelectMany(
            t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)))
        {
            if (!method.IsAbstract && !method.ContainsGenericParameters)
            {
                RuntimeHelpers.PrepareMethod(method.MethodHandle);
            }
        }
    }

    /// <summary>The incoming runner's profile factory: builds the profile over the RAM the migration delivered.</summary>
    public static Func<IWorkloadProfile> ProfileFactory(GuestMemory memory, WorkloadOptions options) => () => CreateProfile(memory, options);

    public static string Execute(string line, GuestMemory memory, GuestControlWord control, out bool quit)
    {
        quit = false;
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var header = (StateHeader*)memory.Pointer;
        string command = words.FirstOrDefault() ?? "";
        bool started = control.State is not (GuestRunState.Incoming or GuestRunState.StartRequested or GuestRunState.StartRefused);
        if (!started && command is not ("start" or "quit"))
        {
            return "error not started";
        }

        switch (command)
        {
            case "start" when !started:
                try
                {
                    control.Start(AnswerTimeout);
                    return "started";
                }
                catch (InvalidDataException e)
                {
                    return $"error {e.Message}";
                }

            case "pause":
                control.Pause(AnswerTimeout);
                return string.Create(CultureInfo.InvariantCulture, $"paused steps={header->Steps}");
            case "resume":
                control.Resume();
                return "resumed";
            case "status":
                return string.Create(CultureInfo.InvariantCulture,
                    $"status {(control.State == GuestRunState.Paused ? "paused" : "running")} steps={header->Steps} sweep-page={header->SweepPage} sweep-value={header->SweepValue}");
            case "write":
                // Test hook: stamp whole pages so a tracker must report exactly these.
                foreach (string word in words.Skip(1))
                {
                    long page = long.Parse(word, CultureInfo.InvariantCulture);
                    memory.GetPage(page).Fill((byte)(page | 1));
                }

                return "written";
            case "quit":
                quit = true;
                return "bye";
            default:
                return $"error unknown command '{line}'";
        }
    }
}
