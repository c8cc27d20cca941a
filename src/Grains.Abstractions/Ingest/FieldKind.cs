namespace MoleSignal.Grains.Abstractions.Ingest;

/// <summary>Column types of a stream. Order is the widening order: a field seen as a wider kind widens.</summary>
public enum FieldKind : byte
{
    Bool = 1,
    Int64 = 2,
    Float64 = 3,
    Utf8 = 4,
}

public static class FieldKinds
{
    /// <summary>int widens to float; anything else that disagrees becomes a string.</summary>
    public static FieldKind Widen(FieldKind a, FieldKind b)
    {
        if (a == b) return a;
        if ((a == FieldKind.Int64 && b == FieldKind.Float64) || (a == FieldKind.Float64 && b == FieldKind.Int64)) return FieldKind.Float64;
        return FieldKind.Utf8;
    }

    /// <summary>The kind named by <see cref="Name"/>.</summary>
    public static FieldKind Parse(string name) => name switch
    {
        "bool" => FieldKind.Bool,
        "int64" => FieldKind.Int64,
        "float64" => FieldKind.Float64,
        _ => FieldKind.Utf8,
    };

    public static string Name(FieldKind k) => k switch
    {
        FieldKind.Bool => "bool",
        FieldKind.Int64 => "int64",
        FieldKind.Float64 => "float64",
        _ => "utf8",
    };
}
