using System.Globalization;
using Ferry.Transfer.Dirty;
using Ferry.Transfer.Memory;
using Ferry.Transfer.Workload;

// The workload guest. Control channel: one command per line on stdin, one answer per line on
// stdout: start (with --incoming) | pause | resume | status | write <page>... | quit.
var options = WorkloadOptions.Parse(args);
if (options is null)
{
    Console.Error.WriteLine(WorkloadOptions.Usage);
    return 2;
}

using var memory = GuestMemory.Open(options.RamPath);
WriteProtectRegistration? registration = null;
unsafe
{
    if (options.Track)
    {
        registration = WriteProtectRegistration.Register(memory.Pointer, memory.Size);
    }
}

using var tracking = registration;
WorkloadHost.PrepareControlPaths();
ProfileRunner? runner = null;
if (!options.Incoming)
{
    runner = new ProfileRunner(WorkloadHost.CreateProfile(memory, options));
    if (!options.StartPaused)
    {
        runner.Resume();
    }
}

Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ready pid={Environment.ProcessId} pages={memory.PageCount}"));
Console.Out.Flush();
while (Console.In.ReadLine() is { } line)
{
    bool quit = false;
    string answer;
    if (runner is null)
    {
        (runner, answer) = line.Trim() switch
        {
            "start" => WorkloadHost.Start(memory, options),
            "quit" => (null, "bye"),
            _ => (null, "error not started"),
        };
        quit = line.Trim() == "quit";
    }
    else
    {
        answer = WorkloadHost.Execute(line, memory, runner, out quit);
    }

    Console.Out.WriteLine(answer);
    Console.Out.Flush();
    if (quit)
    {
        break;
    }
}

runner?.Dispose();
return 0;
