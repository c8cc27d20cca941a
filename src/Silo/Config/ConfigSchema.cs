using System.Reflection;
using System.Text.Json;

namespace MoleSignal.Silo.Config;

/// <summary>One leaf key of the config model, e.g. <c>store.meta.dsn</c>.</summary>
public sealed record ConfigKey(string Path, PropertyInfo Property, IReadOnlyList<PropertyInfo> Parents)
{
    public bool IsArray => Property.PropertyType.IsArray;

    /// <summary>An array of tables (<c>[[http.tls.certs]]</c>): its element is a record of scalar fields.</summary>
    public Type? TableType => IsArray && Property.PropertyType.GetElementType() is { } e && e != typeof(string) ? e : null;
    public bool IsImmutable => Property.IsDefined(typeof(ImmutableAttribute));
    public bool IsSecret => Property.IsDefined(typeof(SecretAttribute));

    public object? GetValue(MoleSignalConfig config)
    {
        object? target = config;
        foreach (var p in Parents) target = p.GetValue(target);
        return Property.GetValue(target);
    }

    public void SetValue(MoleSignalConfig config, object? value)
    {
        object? target = config;
        foreach (var p in Parents) target = p.GetValue(target);
        Property.SetValue(target, value);
    }
}

/// <summary>Every key of <see cref="MoleSignalConfig"/>, found by reflection so the model stays the one list.</summary>
public static class ConfigSchema
{
    public static readonly IReadOnlyDictionary<string, ConfigKey> Keys = Build();

    public static string KeyName(PropertyInfo p) => JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name);

    private static Dictionary<string, ConfigKey> Build()
    {
        var keys = new Dictionary<string, ConfigKey>(StringComparer.Ordinal);
        Walk(typeof(MoleSignalConfig), "", [], keys);
        return keys;
    }

    private static void Walk(Type type, string prefix, List<PropertyInfo> parents, Dictionary<string, ConfigKey> keys)
    {
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.IsDefined(typeof(NotAConfigKeyAttribute))) continue;
            var path = prefix + KeyName(p);
            if (IsSection(p.PropertyType))
                Walk(p.PropertyType, path + ".", [.. parents, p], keys);
            else
                keys[path] = new ConfigKey(path, p, [.. parents]);
        }
    }

    private static bool IsSection(Type t) => t.IsClass && t != typeof(string) && !t.IsArray;
}
