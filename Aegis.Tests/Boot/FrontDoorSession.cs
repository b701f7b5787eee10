// Runs ./aegis with input typed in steps (FrontDoor.RunWithInput writes everything at once): each
// step waits until the output matches its pattern (or a delay passes), then writes its text to the
// serial console's stdin, which stays open until the last step (end of input would end the shell).
// For tests whose bytes must arrive while something runs (Ctrl-C during a `sleep`).
// Invariants: bounded in time like FrontDoor.Run (a step that never sees its pattern gives up at
// the overall limit; the process tree is killed after limit plus a margin); the output is the
// front door's, with terminal control sequences removed, as FrontDoor's.
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Aegis.Tests.Boot;

public static class FrontDoorSession
{
    /// <summary>Wait for 'pattern' in the output (a regular expression; null: no wait), then
    /// 'delayMilliseconds', then type 'text'.</summary>
    public sealed record Step(string pattern, string text, int delayMilliseconds = 0);

    private static readonly TimeSpan HardLimitMargin = TimeSpan.FromSeconds(30);
    private static readonly Regex s_terminalControl = new(@"\x1B(\[[0-9;=?]*[A-Za-z]|[()][0-9A-Za-z])", RegexOptions.Compiled); // FrontDoor's

    /// <summary>Runs the steps; 'typedAt' (if given) receives, per step, when its text was typed
    /// (time since the start; TimeSpan.MaxValue for a step never typed).</summary>
    public static FrontDoorResult Run(TimeSpan limit, IReadOnlyList<Step> steps, string[] arguments, List<TimeSpan> typedAt = null)
    {
        FrontDoor.EnsureIsoBuilt();
        var start = new ProcessStartInfo("bash")
        {
            WorkingDirectory = FrontDoor.RepositoryRoot,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(FrontDoor.ScriptPath);
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        start.Environment.Remove("DISPLAY");
        start.Environment.Remove("WAYLAND_DISPLAY");

        var output = new StringBuilder();
        void Append(string line)
        {
            if (line == null) return;
            lock (output) output.Append(line).Append('\n');
        }
        string Text()
        {
            lock (output) return output.ToString();
        }

        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var clock = Stopwatch.StartNew();
        foreach (Step step in steps)
        {
            if (step.pattern != null)
            {
                var wanted = new Regex(step.pattern);
                while (!wanted.IsMatch(Text()) && clock.Elapsed < limit && !process.HasExited)
                    Thread.Sleep(100);
            }
            if (step.delayMilliseconds > 0) Thread.Sleep(step.delayMilliseconds);
            if (process.HasExited) break;
            try
            {
                process.StandardInput.Write(step.text);
                process.StandardInput.Flush();
                typedAt?.Add(clock.Elapsed);
            }
            catch (IOException)
            {
                break; // the script ended meanwhile
            }
        }
        try { process.StandardInput.Close(); } catch (IOException) { }

        bool killed = false;
        TimeSpan left = limit + HardLimitMargin - clock.Elapsed;
        if (left < TimeSpan.Zero || !process.WaitForExit(left))
        {
            killed = true;
            process.Kill(entireProcessTree: true);
        }
        process.WaitForExit();
        string commandLine = "./aegis " + string.Join(" ", arguments);
        return new FrontDoorResult(commandLine, killed ? -1 : process.ExitCode, s_terminalControl.Replace(Text(), ""), killed);
    }
}
