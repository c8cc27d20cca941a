using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Metadata;

namespace MoleSignal.Grains.Ingest;

/// <summary>A stream's fields in first-seen order with their widened kinds.</summary>
public sealed class StreamSchema
{
    private readonly List<(string Name, FieldKind Kind)> _fields = [];
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);

    public StreamSchema() => Widen("_timestamp", FieldKind.Int64);

    public IReadOnlyList<(string Name, FieldKind Kind)> Fields => _fields;

    public int Version { get; private set; }

    public bool Contains(string name) => _index.ContainsKey(name);

    /// <summary>Returns true when a field was added or widened.</summary>
    public bool Merge(string[] names, FieldKind[] kinds)
    {
        var changed = false;
        for (var i = 0; i < names.Length; i++) changed |= Widen(names[i], kinds[i]);
        if (changed) Version++;
        return changed;
    }

    public void Load(IReadOnlyList<SchemaField> stored)
    {
        foreach (var f in stored) Widen(f.Name, ParseKind(f.Type));
    }

    private bool Widen(string name, FieldKind kind)
    {
        if (_index.TryGetValue(name, out var i))
        {
            var widened = FieldKinds.Widen(_fields[i].Kind, kind);
            if (widened == _fields[i].Kind) return false;
            _fields[i] = (name, widened);
            return true;
        }
        _index[name] = _fields.Count;
        _fields.Add((name, kind));
        return true;
    }

    public List<SchemaField> ToStored() => _fields.Select(f => new SchemaField(f.Name, FieldKinds.Name(f.Kind))).ToList();

    public static FieldKind ParseKind(string type) => type switch
    {
        "bool" => FieldKind.Bool,
        "int64" => FieldKind.Int64,
        "float64" => FieldKind.Float64,
        _ => FieldKind.Utf8,
    };
}
