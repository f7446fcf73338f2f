namespace Distill.Text.Tokenization;

/// <summary>
/// A binary min-heap of candidate merges keyed by (rank, position), reused across words so that
/// merging allocates nothing. Lowest rank wins; among equal ranks the leftmost, as in Hugging Face.
/// </summary>
internal sealed class MergeHeap
{
    private long[] _keys = new long[64];
    private int[] _newIds = new int[64];

    public int Count { get; private set; }

    public void Clear() => Count = 0;

    public void Push(int rank, int position, int newId)
    {
        if (Count == _keys.Length)
        {
            Array.Resize(ref _keys, Count * 2);
            Array.Resize(ref _newIds, Count * 2);
        }
        long key = ((long)rank << 32) | (uint)position;
        int i = Count++;
        while (i > 0)
        {
            int parent = (i - 1) / 2;
            if (_keys[parent] <= key)
                break;
            _keys[i] = _keys[parent];
            _newIds[i] = _newIds[parent];
            i = parent;
        }
        _keys[i] = key;
        _newIds[i] = newId;
    }

    public (int Position, int NewId) Pop()
    {
        long topKey = _keys[0];
        int topId = _newIds[0];
        long key = _keys[--Count];
        int id = _newIds[Count];
        int i = 0;
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= Count)
                break;
            if (child + 1 < Count && _keys[child + 1] < _keys[child])
                child++;
            if (key <= _keys[child])
                break;
            _keys[i] = _keys[child];
            _newIds[i] = _newIds[child];
            i = child;
        }
        if (Count > 0)
        {
            _keys[i] = key;
            _newIds[i] = id;
        }
        return ((int)(topKey & 0xFFFFFFFF), topId);
    }
}
