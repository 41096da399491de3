using Ferry.Cli;

return await FerryCommandLine.RunAsync(args);
