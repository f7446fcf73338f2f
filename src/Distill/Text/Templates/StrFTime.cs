using System.Globalization;
using System.Text;

namespace Distill.Text.Templates;

/// <summary>Python's datetime.strftime for the directives chat templates use (C locale names).</summary>
internal static class StrFTime
{
    private static readonly string[] Days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

    private static readonly string[] Months =
        ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

    public static string Format(DateTime t, string format)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length)
            {
                sb.Append(format[i]);
                continue;
            }
            var d = format[++i];
            sb.Append(d switch
            {
                'd' => Two(t.Day),
                'm' => Two(t.Month),
                'Y' => t.Year.ToString("0000", CultureInfo.InvariantCulture),
                'y' => Two(t.Year % 100),
                'H' => Two(t.Hour),
                'I' => Two(t.Hour % 12 == 0 ? 12 : t.Hour % 12),
                'M' => Two(t.Minute),
                'S' => Two(t.Second),
                'p' => t.Hour < 12 ? "AM" : "PM",
                'b' or 'h' => Months[t.Month - 1][..3],
                'B' => Months[t.Month - 1],
                'a' => Days[(int)t.DayOfWeek][..3],
                'A' => Days[(int)t.DayOfWeek],
                'j' => t.DayOfYear.ToString("000", CultureInfo.InvariantCulture),
                'w' => ((int)t.DayOfWeek).ToString(CultureInfo.InvariantCulture),
                'f' => (t.Ticks % TimeSpan.TicksPerSecond / 10).ToString("000000", CultureInfo.InvariantCulture),
                '%' => "%",
                _ => throw new EvalError($"the strftime directive %{d}", unsupported: true),
            });
        }
        return sb.ToString();
    }

    private static string Two(int v) => v.ToString("00", CultureInfo.InvariantCulture);
}
