using Microsoft.Extensions.Configuration;
using Tomlyn;
using Tomlyn.Model;

namespace MoleSignal.Silo.Config;

/// <summary>TOML file as an IConfiguration source, so reload-on-change comes from the framework.</summary>
public sealed class TomlConfigurationSource : FileConfigurationSource
{
    public override IConfigurationProvider Build(IConfigurationBuilder builder)
    {
        EnsureDefaults(builder);
        return new TomlConfigurationProvider(this);
    }
}

public sealed class TomlConfigurationProvider(TomlConfigurationSource source) : FileConfigurationProvider(source)
{
    public override void Load(Stream stream)
    {
        using var reader = new StreamReader(stream);
        Data = Flatten(reader.ReadToEnd(), Source.Path ?? "config");
    }

    /// <summary>TOML text to flat keys (<c>store:meta:dsn</c>, arrays as <c>node:roles:0</c>).</summary>
    public static Dictionary<string, string?> Flatten(string toml, string sourceName)
    {
        TomlTable table;
        try
        {
            table = TomlSerializer.Deserialize<TomlTable>(toml) ?? new TomlTable();
        }
        catch (Exception e)
        {
            throw new ConfigException($"{sourceName}: not valid TOML: {e.Message}");
        }
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        AddTable(table, "", data);
        return data;
    }

    private static void AddTable(TomlTable table, string prefix, Dictionary<string, string?> data)
    {
        foreach (var (key, value) in table)
            AddValue(prefix + key, value, data);
    }

    private static void AddValue(string key, object? value, Dictionary<string, string?> data)
    {
        switch (value)
        {
            case TomlTable t:
                AddTable(t, key + ConfigurationPath.KeyDelimiter, data);
                break;
            case TomlArray a:
                if (a.Count == 0) data[key] = ""; // an explicit empty array
                for (var i = 0; i < a.Count; i++) AddValue(key + ConfigurationPath.KeyDelimiter + i, a[i], data);
                break;
            case TomlTableArray ta:
                for (var i = 0; i < ta.Count; i++) AddTable(ta[i], key + ConfigurationPath.KeyDelimiter + i + ConfigurationPath.KeyDelimiter, data);
                break;
            case bool b:
                data[key] = b ? "true" : "false";
                break;
            case IFormattable f:
                data[key] = f.ToString(null, System.Globalization.CultureInfo.InvariantCulture);
                break;
            default:
                data[key] = value?.ToString();
                break;
        }
    }
}
