using System.Text;

namespace Distill.Text.Conversations;

/// <summary>
/// Reads lines from a text stream like <see cref="TextReader.ReadLine"/>, but refuses to buffer a line
/// longer than a limit: a file without newlines would otherwise be loaded whole into one string.
/// </summary>
internal sealed class LineReader(TextReader reader, int maxChars)
{
    private readonly char[] _buffer = new char[1 << 16];
    private int _position;
    private int _length;

    /// <summary>Reads the next line without its terminator; false at end of input.</summary>
    /// <param name="line">The line, or null when it exceeded the limit (it is consumed either way).</param>
    public bool TryReadLine(out string? line)
    {
        var text = new StringBuilder();
        var tooLong = false;
        var consumedAny = false;
        while (true)
        {
            if (_position == _length)
            {
                _length = reader.Read(_buffer, 0, _buffer.Length);
                _position = 0;
                if (_length == 0)
                {
                    if (!consumedAny)
                    {
                        line = null;
                        return false;
                    }
                    break;
                }
            }
            consumedAny = true;
            var newline = Array.IndexOf(_buffer, '\n', _position, _length - _position);
            var end = newline < 0 ? _length : newline;
            if (!tooLong)
            {
                if (text.Length + (end - _position) > maxChars)
                {
                    tooLong = true;
                    text.Clear();
                }
                else
                {
                    text.Append(_buffer, _position, end - _position);
                }
            }
            _position = newline < 0 ? _length : newline + 1;
            if (newline >= 0)
                break;
        }
        if (tooLong)
        {
            line = null;
            return true;
        }
        if (text.Length > 0 && text[^1] == '\r')
            text.Length--;
        line = text.ToString();
        return true;
    }
}
