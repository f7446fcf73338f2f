using System.Runtime.InteropServices;

namespace Distill.Bench;

/// <summary>
/// The process's resident memory from Linux's /proc/self/status: the current size (VmRSS) and the high-water mark
/// (VmHWM), which writing "5" to /proc/self/clear_refs resets to the current size.
/// </summary>
internal static class PeakMemory
{
    /// <summary>True when the high-water mark can be read and reset (Linux only).</summary>
    public static bool Available => File.Exists("/proc/self/clear_refs") && File.Exists("/proc/self/status");

    /// <summary>Returns freed native memory to the OS, then makes the high-water mark the current size; returns that size in bytes.</summary>
    public static long Reset()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        _ = MallocTrim(0);
        File.WriteAllText("/proc/self/clear_refs", "5");
        return Read("VmRSS:");
    }

    /// <summary>Peak resident bytes since the last <see cref="Reset"/>.</summary>
    public static long Peak() => Read("VmHWM:");

    private static long Read(string key)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (!line.StartsWith(key, StringComparison.Ordinal)) continue;
            var kb = line[key.Length..].Trim().Split(' ')[0];
            return long.Parse(kb, System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        throw new InvalidDataException($"/proc/self/status: no {key} line");
    }

    // glibc keeps freed blocks mapped; trimming them keeps one measurement's peak from hiding in the next one's baseline.
    [DllImport("libc.so.6", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);
}
