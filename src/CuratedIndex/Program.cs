using CuratedIndex.Hosting;

// `curated-index [serve]` runs the server; `migrate`, `audit verify`, `users add|set-password` and `typosquat-check`
// do one job and exit (Hosting/CommandLine.cs). The host itself is built in Hosting/CuratedIndexHost.cs.
return await CommandLine.InvokeAsync(args);

public partial class Program;
