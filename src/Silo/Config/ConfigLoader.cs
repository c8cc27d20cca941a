using System.Collections;
using Microsoft.Extensions.Configuration;

namespace MoleSignal.Silo.Config;

/// <summary>Precedence: built-in defaults &lt; TOML file &lt; MS_ environment.</summary>
public static class ConfigLoader
{
    public static IConfigurationRoot BuildRoot(string? tomlPath, IDictionary? environment = null, bool reloadOnChange = false)
    {
        var builder = new ConfigurationBuilder();
        if (tomlPath is not null)
        {
            var full = Path.GetFullPath(tomlPath);
            if (!File.Exists(full)) throw new ConfigException($"config file '{tomlPath}' does not exist");
            builder.Add(new TomlConfigurationSource
            {
                Path = Path.GetFileName(full),
                FileProvider = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(Path.GetDirectoryName(full)!),
                Optional = false,
                ReloadOnChange = reloadOnChange,
                ReloadDelay = 200,
            });
        }
        builder.Add(new MsEnvironmentConfigurationSource(environment));
        try
        {
            return builder.Build();
        }
        catch (InvalidDataException e) when (e.InnerException is ConfigException ce)
        {
            throw ce;
        }
    }

    public static MoleSignalConfig Load(string? tomlPath, IDictionary? environment = null)
    {
        var root = BuildRoot(tomlPath, environment);
        return ConfigBinder.Bind(root, environment?.Cast<DictionaryEntry>().ToDictionary(e => (string)e.Key, e => (string?)e.Value));
    }
}
