using System.Buffers.Binary;
using System.IO.Hashing;

namespace MoleSignal.Grains.Index;

/// <summary>
/// An inverted index being built: each distinct UTF-8 term and the ascending doc ids that hold it. Docs are added
/// in ascending order. Handed to Lucene whole (<see cref="PostingsReader"/>, <see cref="TableCodec"/>), which writes it as one segment:
/// Lucene's own per-document indexing chain (a token stream, UTF-16 terms, per-doc bookkeeping) cost three times
/// what this table does on log text.
/// </summary>
public sealed class PostingsTable
{
    private byte[] _arena = new byte[1 << 16];
    private int _arenaUsed;
    // Per term id: its bytes in the arena, its hash, the last doc added and its doc count.
    private int[] _start = new int[1024];
    private int[] _length = new int[1024];
    private int[] _hash = new int[1024];
    private int[] _lastDoc = new int[1024];
    private int[] _docFreq = new int[1024];
    // Postings of all terms in the order added (docs ascending); grouped by term once, when first read.
    private int[] _cellTerm = new int[1 << 16];
    private int[] _cellDoc = new int[1 << 16];
    private int _postings;
    private int[]? _byTermStart;
    private int[]? _byTermDocs;
    // Open addressing: term id + 1, 0 = empty.
    private int[] _slots = new int[2048];

    public int Terms { get; private set; }

    public void Add(ReadOnlySpan<byte> term, int doc)
    {
        var hash = (int)XxHash3.HashToUInt64(term);
        var mask = _slots.Length - 1;
        var slot = hash & mask;
        int id;
        while (true)
        {
            var s = _slots[slot];
            if (s == 0)
            {
                id = NewTerm(term, hash, slot);
                break;
            }
            id = s - 1;
            if (_hash[id] == hash && _arena.AsSpan(_start[id], _length[id]).SequenceEqual(term))
            {
                if (_lastDoc[id] == doc) return; // a row's repeated word is one posting
                break;
            }
            slot = (slot + 1) & mask;
        }
        if (_postings == _cellDoc.Length)
        {
            Array.Resize(ref _cellTerm, _cellTerm.Length * 2);
            Array.Resize(ref _cellDoc, _cellDoc.Length * 2);
        }
        _cellTerm[_postings] = id;
        _cellDoc[_postings++] = doc;
        _docFreq[id]++;
        _lastDoc[id] = doc;
        _byTermDocs = null;
    }

    private int NewTerm(ReadOnlySpan<byte> term, int hash, int slot)
    {
        var id = Terms++;
        if (id == _start.Length)
        {
            var n = id * 2;
            Array.Resize(ref _start, n);
            Array.Resize(ref _length, n);
            Array.Resize(ref _hash, n);
            Array.Resize(ref _lastDoc, n);
            Array.Resize(ref _docFreq, n);
        }
        if (_arena.Length - _arenaUsed < term.Length) Array.Resize(ref _arena, Math.Max(_arena.Length * 2, _arenaUsed + term.Length));
        term.CopyTo(_arena.AsSpan(_arenaUsed));
        _start[id] = _arenaUsed;
        _length[id] = term.Length;
        _arenaUsed += term.Length;
        _hash[id] = hash;
        _lastDoc[id] = -1;
        _docFreq[id] = 0;
        _slots[slot] = id + 1;
        if (Terms * 2 > _slots.Length) Rehash();
        return id;
    }

    private void Rehash()
    {
        var slots = new int[_slots.Length * 2];
        var mask = slots.Length - 1;
        for (var id = 0; id < Terms; id++)
        {
            var slot = _hash[id] & mask;
            while (slots[slot] != 0) slot = (slot + 1) & mask;
            slots[slot] = id + 1;
        }
        _slots = slots;
    }

    private ReadOnlySpan<byte> Term(int id) => _arena.AsSpan(_start[id], _length[id]);

    /// <summary>Copies term <paramref name="id"/> into Lucene's byte array form without allocating.</summary>
    internal (byte[] Bytes, int Offset, int Length) TermSlice(int id) => (_arena, _start[id], _length[id]);

    /// <summary>The ascending docs of term <paramref name="id"/>.</summary>
    public ReadOnlySpan<int> Docs(int id)
    {
        if (_byTermDocs is null) GroupByTerm();
        return _byTermDocs.AsSpan(_byTermStart![id], _docFreq[id]);
    }

    // A counting sort of the postings by term, stable so each term's docs stay ascending: reading a term's docs
    // then walks memory in order (chasing them through the postings of all terms missed the cache on each one).
    private void GroupByTerm()
    {
        var start = new int[Terms];
        for (int id = 0, sum = 0; id < Terms; id++)
        {
            start[id] = sum;
            sum += _docFreq[id];
        }
        var next = (int[])start.Clone();
        var docs = new int[_postings];
        for (var i = 0; i < _postings; i++) docs[next[_cellTerm[i]]++] = _cellDoc[i];
        _byTermStart = start;
        _byTermDocs = docs;
    }

    /// <summary>Term ids in unsigned byte order of their UTF-8 (Lucene's term order).</summary>
    public int[] SortedTerms()
    {
        var ids = new int[Terms];
        var keys = new ulong[Terms];
        Span<byte> head = stackalloc byte[8];
        for (var id = 0; id < Terms; id++)
        {
            ids[id] = id;
            // Tokens hold no zero bytes, so zero padding sorts a term before every longer one it begins.
            head.Clear();
            var t = Term(id);
            t[..Math.Min(8, t.Length)].CopyTo(head);
            keys[id] = BinaryPrimitives.ReadUInt64BigEndian(head);
        }
        Array.Sort(keys, ids);
        // Terms that share their first eight bytes: order those runs by the rest.
        for (var i = 0; i < ids.Length;)
        {
            var j = i + 1;
            while (j < ids.Length && keys[j] == keys[i]) j++;
            if (j - i > 1) ids.AsSpan(i, j - i).Sort((a, b) => Term(a).SequenceCompareTo(Term(b)));
            i = j;
        }
        return ids;
    }
}
