namespace CuratedIndex.Hosting;

/// <summary>A configuration the process refuses to run with; the message is one line naming the key and the fix.</summary>
public sealed class StartupRefusedException(string message, Exception? inner = null) : Exception(message, inner);
