using System.Buffers;
using System.Text;

namespace Distill.Text.Conversations;

/// <summary>
/// Reads UTF-8 lines from a byte stream like <see cref="TextReader.ReadLine"/>, with two differences that matter for
/// training data: a line longer than a limit is refused without being buffered (a file without newlines would otherwise be
/// loaded whole into one string), and a line that is not valid UTF-8 is refused instead of being decoded with U+FFFD in
/// place of its bad bytes (<see cref="StreamReader"/>'s default), which would silently train on replacement characters.
/// </summary>
internal sealed class LineReader(Stream stream, int maxBytes)
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly byte[] _buffer = new byte[1 << 16];
    private readonly ArrayBufferWriter<byte> _line = new();
    private int _position;
    private int _length;
    private bool _started;

    /// <summary>Reads the next line without its terminator; false at end of input.</summary>
    /// <param name="line">The line, or null when it is unusable (it is consumed either way).</param>
    /// <param name="problem">Why the line is unusable (too long, not UTF-8), else null.</param>
    public bool TryReadLine(out string? line, out string? problem)
    {
        (line, problem) = (null, null);
        _line.Clear();
        var tooLong = false;
        var consumedAny = false;
        while (true)
        {
            if (_position == _length)
            {
                _length = stream.Read(_buffer, 0, _buffer.Length);
                _position = 0;
                if (_length == 0)
                {
                    if (!consumedAny) return false;
                    break;
                }
            }
            consumedAny = true;
            var newline = Array.IndexOf(_buffer, (byte)'\n', _position, _length - _position);
            var end = newline < 0 ? _length : newline;
            if (!tooLong)
            {
                if (_line.WrittenCount + (end - _position) > maxBytes)
                {
                    tooLong = true;
                    _line.Clear();
                }
                else
                {
                    _line.Write(_buffer.AsSpan(_position, end - _position));
                }
            }
            _position = newline < 0 ? _length : newline + 1;
            if (newline >= 0) break;
        }
        if (tooLong)
        {
            problem = $"line longer than {maxBytes} bytes";
            return true;
        }
        var bytes = _line.WrittenSpan;
        if (!_started && bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) bytes = bytes[3..]; // a byte-order mark
        _started = true;
        if (bytes.Length > 0 && bytes[^1] == '\r') bytes = bytes[..^1];
        try
        {
            line = Strict.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            problem = $"not valid UTF-8 (byte {e.Index + 1} of the line)";
        }
        return true;
    }
}
