namespace Distill.Tests.Samples;

/// <summary>Locates the committed samples/ folder by walking up from the test binaries to the repository root.</summary>
internal static class SampleFiles
{
    public static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "samples");
                if (Directory.Exists(Path.Combine(candidate, "data"))) return candidate;
            }
            throw new DirectoryNotFoundException("samples/data not found above " + AppContext.BaseDirectory);
        }
    }

    public static string Data(string name) => Path.Combine(Root, "data", name);

    public static string Teacher => Path.Combine(Root, "teacher");
}
