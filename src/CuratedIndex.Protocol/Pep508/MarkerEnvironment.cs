namespace CuratedIndex.Protocol.Pep508;

/// <summary>
/// The PEP 508 marker variables of one interpreter on one platform (what <c>packaging.markers.default_environment()</c>
/// returns there). <c>extra</c> is not a variable here: the extras asked for are an argument of <see cref="Marker.Evaluate"/>.
/// </summary>
public sealed record MarkerEnvironment(
    string PythonVersion,
    string PythonFullVersion,
    string OsName,
    string SysPlatform,
    string PlatformSystem,
    string PlatformMachine,
    string PlatformPythonImplementation = "CPython",
    string ImplementationName = "cpython",
    string? ImplementationVersion = null,
    string PlatformRelease = "",
    string PlatformVersion = "")
{
    /// <summary>The value of a PEP 508 variable (<c>python_version</c>, <c>sys_platform</c>, …), or null for a name PEP 508 does not define.</summary>
    public string? Get(string variable) => throw new NotImplementedException();
}
