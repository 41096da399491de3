using System.Globalization;
using Ferry.Transfer.Dirty;
using Ferry.Transfer.Guest;
using Ferry.Transfer.Memory;
using Ferry.Transfer.Workload;

// The workload guest. Switch-over control (pause, resume, start) goes through a control word in a
// shared file (--control, see GuestControlWord); the same commands, and a few more, also work one
// per line on stdin with one answer per line on stdout:
// start (with --incoming) | pause | resume | status | write <page>... | quit.
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
using var control = options.ControlPath is null ? GuestControlWord.Create() : GuestControlWord.Open(options.ControlPath);
WorkloadHost.PrepareControlPaths();
var initial = options.Incoming ? GuestRunState.Incoming : options.StartPaused ? GuestRunState.Paused : GuestRunState.Running;
var runner = new ProfileRunner(control, WorkloadHost.ProfileFactory(memory, options), initial);

Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ready pid={Environment.ProcessId} pages={memory.PageCount}"));
Console.Out.Flush();
while (Console.In.ReadLine() is { } line)
{
    string answer = WorkloadHost.Execute(line, memory, control, out bool quit);
    Console.Out.WriteLine(answer);
    Console.Out.Flush();
    if (quit)
    {
        break;
    }
}

runner.Dispose();
return 0;
