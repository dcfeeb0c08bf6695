using System.Diagnostics;
using System.Text;

namespace CuratedIndex.Tests.EndToEnd;

/// <summary>What a finished external process printed, with its command line, for assertion messages.</summary>
public sealed record ProcessResult(string CommandLine, int ExitCode, string StandardOutput, string StandardError, TimeSpan Elapsed)
{
    public string Output => StandardOutput + StandardError;

    /// <summary>The command, exit code and the tail of stdout/stderr, sized for an xunit failure message.</summary>
    public string Describe(int tailChars = 12_000) =>
        $"$ {CommandLine}\nexit code {ExitCode} after {Elapsed.TotalSeconds:F1}s\n--- stdout ---\n{Tail(StandardOutput, tailChars)}\n--- stderr ---\n{Tail(StandardError, tailChars)}";

    public ProcessResult EnsureSuccess()
    {
        if (ExitCode != 0)
        {
            throw new InvalidOperationException($"command failed\n{Describe()}");
        }

        return this;
    }

    private static string Tail(string text, int chars) => text.Length <= chars ? text : "[...]\n" + text[^chars..];
}

/// <summary>
/// A child process with captured stdout/stderr. The whole process tree is killed on timeout and on
/// dispose, so a hung pip or poetry never outlives its test. The environment starts from this process's
/// environment; <see cref="RunAsync"/> removes or sets variables per call.
/// </summary>
public sealed class ExternalProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private ExternalProcess(Process process, string commandLine)
    {
        _process = process;
        CommandLine = commandLine;
    }

    public string CommandLine { get; }

    public bool HasExited => _process.HasExited;

    public int ProcessId => _process.Id;

    /// <summary>
    /// Waits until GET <paramref name="url"/> answers 200 (a server's <c>/healthz</c> or <c>/readyz</c>), for at most a
    /// minute; fails the test with the command line and the output so far when the process exits first or never answers.
    /// </summary>
    public async Task WaitUntilAnswersAsync(Uri url)
    {
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(5) };
        for (var attempt = 0; attempt < 240; attempt++)
        {
            Assert.False(HasExited, $"the process exited before {url} answered: {CommandLine}\n{OutputSoFar}");
            try
            {
                using var response = await client.GetAsync(url);
                if (response.StatusCode == System.Net.HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(250);
        }

        Assert.Fail($"{url} did not answer 200 within 60 s: {CommandLine}\n{OutputSoFar}");
    }

    /// <summary>Ends the process and its children at once with SIGKILL (kill -9): no shutdown code runs.</summary>
    public void Kill() => KillTree();

    /// <summary>What the running process has printed so far (standard output and error).</summary>
    public string OutputSoFar => Snapshot(exitCode: -1).Output;

    /// <summary>Starts <paramref name="fileName"/>; variables mapped to null are removed from the child's environment.</summary>
    public static ExternalProcess Start(string fileName, IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }

        var commandLine = string.Join(' ', new[] { fileName }.Concat(info.ArgumentList).Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"'{a}'" : a));
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var external = new ExternalProcess(process, commandLine);
        process.OutputDataReceived += (_, e) => external.Append(external._stdout, external._stdoutClosed, e.Data);
        process.ErrorDataReceived += (_, e) => external.Append(external._stderr, external._stderrClosed, e.Data);
        process.Start();
        process.StandardInput.Close(); // nothing may wait for a prompt answer
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return external;
    }

    /// <summary>Runs to completion or kills the tree after <paramref name="timeout"/> (reported as exit code -1 with the output so far).</summary>
    public static async Task<ProcessResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        string workingDirectory,
        IReadOnlyDictionary<string, string?>? environment,
        TimeSpan timeout)
    {
        await using var process = Start(fileName, arguments, workingDirectory, environment);
        return await process.WaitAsync(timeout);
    }

    public async Task<ProcessResult> WaitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancellation.Token);
            // Exited; the readers deliver the last lines and then null.
            await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(TimeSpan.FromSeconds(10));
            return Snapshot(_process.ExitCode);
        }
        catch (OperationCanceledException)
        {
            KillTree();
            var result = Snapshot(-1);
            return result with { StandardError = result.StandardError + $"\n[killed: no exit within {timeout.TotalSeconds:F0}s]" };
        }
    }

    private ProcessResult Snapshot(int exitCode)
    {
        lock (_stdout)
        {
            lock (_stderr)
            {
                return new ProcessResult(CommandLine, exitCode, _stdout.ToString(), _stderr.ToString(), _clock.Elapsed);
            }
        }
    }

    private void Append(StringBuilder buffer, TaskCompletionSource closed, string? line)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }

        lock (buffer)
        {
            buffer.Append(line).Append('\n');
        }
    }

    private void KillTree()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill.
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // Exiting while being killed.
        }
    }

    public ValueTask DisposeAsync()
    {
        KillTree();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
