namespace Distill.LogitCache;

/// <summary>A setting on which two manifests disagree.</summary>
/// <param name="Key">The key, dotted when nested (<c>data.sha256</c>).</param>
/// <param name="First">Its JSON value in the first manifest, shortened; "(absent)" when missing.</param>
/// <param name="Second">Its JSON value in the second manifest, likewise.</param>
public sealed record SettingDifference(string Key, string First, string Second);
