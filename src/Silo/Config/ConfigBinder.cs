using System.ComponentModel;
using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace MoleSignal.Silo.Config;

/// <summary>
/// Binds an IConfigurationRoot to <see cref="MoleSignalConfig"/> by the schema, rejecting unknown keys and
/// bad values with the dotted key in the message (the framework binder names neither well).
/// </summary>
public static class ConfigBinder
{
    public static MoleSignalConfig Bind(IConfigurationRoot root, IDictionary<string, string?>? flatSecrets = null)
    {
        RejectUnknownKeys(root);
        var config = new MoleSignalConfig();
        foreach (var key in ConfigSchema.Keys.Values)
        {
            var cfgPath = key.Path.Replace('.', ':');
            if (key.TableType is { } table)
            {
                if (ReadTables(root, cfgPath, key, table) is { } tables) key.SetValue(config, tables);
                continue;
            }
            if (key.IsArray)
            {
                var items = ReadArray(root, cfgPath);
                if (items is not null) key.SetValue(config, items);
                continue;
            }
            var raw = root[cfgPath];
            if (raw is null) continue;
            key.SetValue(config, Convert(key, raw));
        }
        config.Secrets = ReadSecrets(flatSecrets);
        ConfigValidator.Validate(config);
        return config;
    }

    private static void RejectUnknownKeys(IConfigurationRoot root)
    {
        foreach (var (path, value) in root.AsEnumerable())
        {
            if (value is null) continue; // a section; its leaves are checked themselves
            var parts = path.Split(':');
            // Arrays add an index segment.
            var dotted = string.Join('.', parts.Where(p => !int.TryParse(p, out _))).ToLowerInvariant();
            if (ConfigSchema.Keys.ContainsKey(dotted)) continue;
            var dot = dotted.LastIndexOf('.');
            if (dot > 0 && ConfigSchema.Keys.TryGetValue(dotted[..dot], out var owner) && owner.TableType is { } t
                && t.GetProperties().Any(p => ConfigSchema.KeyName(p) == dotted[(dot + 1)..]))
                continue;
            throw new ConfigException($"unknown config key '{dotted}'" + Suggest(dotted));
        }
    }

    private static string Suggest(string dotted)
    {
        var best = ConfigSchema.Keys.Keys.MinBy(k => Levenshtein(k, dotted));
        return best is not null && Levenshtein(best, dotted) <= 3 ? $" (did you mean '{best}'?)" : "";
    }

    // The highest-priority source that sets an array wins whole; merging by index would mix TOML and env items.
    private static string[]? ReadArray(IConfigurationRoot root, string path)
    {
        foreach (var provider in root.Providers.Reverse())
        {
            var indices = provider.GetChildKeys([], path).Distinct().ToList();
            if (indices.Count == 0)
            {
                if (provider.TryGet(path, out var single))
                    return string.IsNullOrEmpty(single) ? [] : [single];
                continue;
            }
            return indices
                .Select(i => int.TryParse(i, out var n) ? n : throw new ConfigException($"config key '{path.Replace(':', '.')}' must be an array of strings"))
                .Order()
                .Select(i => provider.TryGet(path + ":" + i, out var v) ? v ?? "" : "")
                .ToArray();
        }
        return null;
    }

    // Arrays of tables come from TOML only; the highest-priority file that has the array wins whole.
    private static Array? ReadTables(IConfigurationRoot root, string path, ConfigKey key, Type table)
    {
        foreach (var provider in root.Providers.Reverse())
        {
            var indices = provider.GetChildKeys([], path).Distinct()
                .Select(i => int.TryParse(i, out var n) ? n : throw new ConfigException($"config key '{key.Path}' must be an array of tables"))
                .Order().ToList();
            if (indices.Count == 0)
            {
                if (provider.TryGet(path, out var empty) && string.IsNullOrEmpty(empty)) return Array.CreateInstance(table, 0);
                continue;
            }
            var result = Array.CreateInstance(table, indices.Count);
            for (var i = 0; i < indices.Count; i++)
            {
                var item = Activator.CreateInstance(table)!;
                foreach (var p in table.GetProperties())
                    if (provider.TryGet($"{path}:{indices[i]}:{ConfigSchema.KeyName(p)}", out var raw) && raw is not null)
                        p.SetValue(item, p.PropertyType == typeof(string) ? raw
                            : TypeDescriptor.GetConverter(p.PropertyType).ConvertFromString(null, CultureInfo.InvariantCulture, raw.Trim()));
                result.SetValue(item, i);
            }
            return result;
        }
        return null;
    }

    private static object? Convert(ConfigKey key, string raw)
    {
        var type = key.Property.PropertyType;
        if (type == typeof(string)) return raw;
        try
        {
            return TypeDescriptor.GetConverter(type).ConvertFromString(null, CultureInfo.InvariantCulture, raw.Trim());
        }
        catch (Exception)
        {
            throw new ConfigException($"config key '{key.Path}': '{raw}' is not a valid {FriendlyType(type)}");
        }
    }

    private static string FriendlyType(Type t) =>
        t == typeof(int) || t == typeof(long) ? "integer" : t == typeof(bool) ? "boolean (true/false)" : t.Name;

    private static Secrets ReadSecrets(IDictionary<string, string?>? env)
    {
        string? Get(string name) => env is not null
            ? (env.TryGetValue(name, out var v) ? v : null)
            : Environment.GetEnvironmentVariable(name);
        return new Secrets
        {
            CipherKey = Get("MS_CIPHER_KEY"),
            JwtSecretOverride = Get("MS_AUTH_JWT_SECRET_OVERRIDE"),
            RootUserEmail = Get("MS_ROOT_USER_EMAIL"),
            RootUserPassword = Get("MS_ROOT_USER_PASSWORD"),
            LicenseFile = Get("MS_LICENSE_FILE"),
        };
    }

    private static int Levenshtein(string a, string b)
    {
        var d = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) d[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            var prev = d[0];
            d[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var tmp = d[j];
                d[j] = Math.Min(Math.Min(d[j] + 1, d[j - 1] + 1), prev + (a[i - 1] == b[j - 1] ? 0 : 1));
                prev = tmp;
            }
        }
        return d[b.Length];
    }
}
