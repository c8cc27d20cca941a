namespace MoleSignal.Grains.Storage;

/// <summary>Guards every store against keys that could escape its root or bucket prefix.</summary>
public static class ObjectKey
{
    public static string Validate(string key)
    {
        if (string.IsNullOrEmpty(key)) throw new ArgumentException("object key is empty");
        if (key.Length > 1024) throw new ArgumentException("object key is longer than 1024 characters");
        if (key[0] == '/' || key.Contains('\\') || key.Contains('\0'))
            throw new ArgumentException($"object key '{key}' is not a relative '/'-separated key");
        foreach (var part in key.Split('/'))
            if (part is "" or "." or "..")
                throw new ArgumentException($"object key '{key}' has an empty, '.' or '..' segment");
        return key;
    }
}
