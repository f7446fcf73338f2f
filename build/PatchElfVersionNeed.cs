using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

// Marks one symbol-version requirement of an ELF shared library as weak (VER_FLG_WEAK), so the
// dynamic loader accepts a system library that lacks that version instead of refusing to load.
//
// Why: TorchSharp 0.107's libLibTorchSharp.so was linked with GCC 13 and lists GLIBCXX_3.4.32 in
// .gnu.version_r for a single marker symbol (_ZSt21ios_base_library_initv) that is never called.
// Debian 12's libstdc++ stops at GLIBCXX_3.4.30, so the load fails with
// "version `GLIBCXX_3.4.32' not found". A weak version requirement only produces that error as a
// warning, and every function TorchSharp actually calls resolves against older versions.
//
// The patch runs on the copy in a build or publish output, never on the NuGet cache; it is
// idempotent (a flag already set is left alone) and writes through a temporary file and a rename.
public sealed class PatchElfVersionNeed : Task
{
    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlgWeak = 0x2;

    [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();
    [Required] public string VersionName { get; set; } = "";
    /// <summary>Libraries that, when present and already defining the version, make the patch unnecessary.</summary>
    public ITaskItem[] SystemLibraries { get; set; } = Array.Empty<ITaskItem>();

    public override bool Execute()
    {
        foreach (var lib in SystemLibraries)
        {
            if (File.Exists(lib.ItemSpec) && Contains(File.ReadAllBytes(lib.ItemSpec), Encoding.ASCII.GetBytes(VersionName + "\0")))
            {
                Log.LogMessage(MessageImportance.Low, $"{lib.ItemSpec} defines {VersionName}; no patch needed.");
                return true;
            }
        }
        foreach (var item in Files)
        {
            if (!File.Exists(item.ItemSpec)) continue;
            try { PatchFile(item.ItemSpec); }
            catch (Exception e) when (e is InvalidDataException or IndexOutOfRangeException or ArgumentOutOfRangeException)
            {
                Log.LogError($"{item.ItemSpec}: cannot mark {VersionName} weak: {e.Message}");
                return false;
            }
        }
        return !Log.HasLoggedErrors;
    }

    void PatchFile(string path)
    {
        byte[] elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("only 64-bit little-endian ELF is supported");

        long shoff = (long)BitConverter.ToUInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A);
        int shnum = BitConverter.ToUInt16(elf, 0x3C);
        int patched = 0, alreadyWeak = 0;
        for (int s = 0; s < shnum; s++)
        {
            long sh = shoff + (long)s * shentsize;
            if (BitConverter.ToUInt32(elf, (int)sh + 4) != ShtGnuVerneed) continue;
            long offset = (long)BitConverter.ToUInt64(elf, (int)sh + 24);
            uint link = BitConverter.ToUInt32(elf, (int)sh + 40);
            uint count = BitConverter.ToUInt32(elf, (int)sh + 44);
            long strtab = (long)BitConverter.ToUInt64(elf, (int)(shoff + link * shentsize + 24));

            long vn = offset;
            for (uint i = 0; i < count; i++)
            {
                int auxCount = BitConverter.ToUInt16(elf, (int)vn + 2);
                long aux = vn + BitConverter.ToUInt32(elf, (int)vn + 8);
                for (int j = 0; j < auxCount; j++)
                {
                    int flagsAt = (int)aux + 4;
                    string name = ReadCString(elf, strtab + BitConverter.ToUInt32(elf, (int)aux + 8));
                    if (name == VersionName)
                    {
                        ushort flags = BitConverter.ToUInt16(elf, flagsAt);
                        if ((flags & VerFlgWeak) != 0) alreadyWeak++;
                        else { elf[flagsAt] = (byte)(elf[flagsAt] | VerFlgWeak); patched++; }
                    }
                    aux += BitConverter.ToUInt32(elf, (int)aux + 12);
                }
                vn += BitConverter.ToUInt32(elf, (int)vn + 12);
            }
        }
        if (patched == 0)
        {
            Log.LogMessage(MessageImportance.Low, alreadyWeak > 0 ? $"{path}: {VersionName} already weak." : $"{path}: does not require {VersionName}.");
            return;
        }
        // Keeping the copy's timestamp lets MSBuild's incremental copy skip the file next time.
        DateTime stamp = File.GetLastWriteTimeUtc(path);
        string temp = path + ".patching";
        File.WriteAllBytes(temp, elf);
        File.SetLastWriteTimeUtc(temp, stamp);
        File.Replace(temp, path, null);
        Log.LogMessage(MessageImportance.Normal, $"{path}: marked {VersionName} weak ({patched} entr{(patched == 1 ? "y" : "ies")}).");
    }

    static string ReadCString(byte[] data, long at)
    {
        int end = Array.IndexOf(data, (byte)0, (int)at);
        if (end < 0) throw new InvalidDataException("unterminated string in .dynstr");
        return Encoding.ASCII.GetString(data, (int)at, end - (int)at);
    }

    // The task factory compiles against netstandard2.0, which has no span search.
    static bool Contains(byte[] haystack, byte[] needle)
    {
        for (int i = Array.IndexOf(haystack, needle[0]); i >= 0 && i <= haystack.Length - needle.Length; i = Array.IndexOf(haystack, needle[0], i + 1))
        {
            int k = 1;
            while (k < needle.Length && haystack[i + k] == needle[k]) k++;
            if (k == needle.Length) return true;
        }
        return false;
    }
}
