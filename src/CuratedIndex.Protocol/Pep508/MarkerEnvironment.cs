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
    /// <remarks>
    /// The dotted spellings packaging still accepts (<c>os.name</c>, <c>sys.platform</c>, <c>platform.machine</c>,
    /// <c>platform.version</c>, <c>platform.python_implementation</c>) and <c>python_implementation</c> are aliases.
    /// <c>implementation_version</c> falls back to <see cref="PythonFullVersion"/>, which is what CPython reports.
    /// </remarks>
    public string? Get(string variable) => CanonicalName(variable) switch
    {
        "python_version" => PythonVersion,
        "python_full_version" => PythonFullVersion,
        "os_name" => OsName,
        "sys_platform" => SysPlatform,
        "platform_system" => PlatformSystem,
        "platform_machine" => PlatformMachine,
        "platform_python_implementation" => PlatformPythonImplementation,
        "implementation_name" => ImplementationName,
        "implementation_version" => ImplementationVersion ?? PythonFullVersion,
        "platform_release" => PlatformRelease,
        "platform_version" => PlatformVersion,
        _ => null,
    };

    /// <summary>
    /// The PEP 508 name of <paramref name="variable"/> with the legacy aliases resolved (<c>os.name</c> becomes
    /// <c>os_name</c>), <c>extra</c> for <c>extra</c>, or null for a name PEP 508 does not define.
    /// </summary>
    public static string? CanonicalName(string? variable) => variable switch
    {
        "python_version" or "python_full_version" or "os_name" or "sys_platform" or "platform_system"
            or "platform_machine" or "platform_python_implementation" or "implementation_name"
            or "implementation_version" or "platform_release" or "platform_version" or "extra" => variable,
        "os.name" => "os_name",
        "sys.platform" => "sys_platform",
        "platform.machine" => "platform_machine",
        "platform.version" => "platform_version",
        "platform.python_implementation" or "python_implementation" => "platform_python_implementation",
        _ => null,
    };
}
