using System.Text;

namespace Distill.Text.Conversations;

/// <summary>
/// A read-only stream of the UTF-8 bytes of a <see cref="TextReader"/>'s text, encoded as they are asked for, so that
/// text from elsewhere (a string, a pipe) goes through the same <see cref="LineReader"/> as a file and stays lazy.
/// </summary>
internal sealed class TextReaderStream(TextReader reader) : Stream
{
    private readonly char[] _chars = new char[4096];
    private readonly Encoder _encoder = new UTF8Encoding(false).GetEncoder();
    private byte[] _bytes = [];
    private int _position;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count)
    {
        if (_position == _bytes.Length)
        {
            var read = reader.Read(_chars, 0, _chars.Length);
            if (read == 0) return 0;
            _bytes = new byte[_encoder.GetByteCount(_chars, 0, read, flush: false)];
            _encoder.GetBytes(_chars, 0, read, _bytes, 0, flush: false);
            _position = 0;
            if (_bytes.Length == 0) return Read(buffer, offset, count); // a high surrogate waiting for its pair
        }
        var n = Math.Min(count, _bytes.Length - _position);
        Array.Copy(_bytes, _position, buffer, offset, n);
        _position += n;
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) reader.Dispose();
        base.Dispose(disposing);
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
