using System.Collections;
using Microsoft.Extensions.Configuration;

namespace MoleSignal.Silo.Config;

/// <summary>
/// The spec's env form: <c>MS_SECTION.SUB.FIELD</c> (prefix stripped, split on dots). Array keys take
/// comma-separated values (<c>MS_NODE.ROLES=ingester,querier</c>). Flat secrets are not read here.
/// </summary>
public sealed class MsEnvironmentConfigurationSource(IDictionary? environment = null) : IConfigurationSource
{
    public IConfigurationProvider Build(IConfigurationBuilder builder) => new Provider(environment);

    private sealed class Provider(IDictionary? environment) : ConfigurationProvider
    {
        public override void Load()
        {
            var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            foreach (DictionaryEntry e in environment ?? Environment.GetEnvironmentVariables())
            {
                var name = (string)e.Key;
                if (!name.StartsWith("MS_", StringComparison.Ordinal) || !name.Contains('.')) continue;
                var dotted = name[3..].ToLowerInvariant();
                var key = dotted.Replace('.', ':');
                var value = (string?)e.Value ?? "";
                if (ConfigSchema.Keys.TryGetValue(dotted, out var k) && k.TableType is not null)
                    throw new ConfigException($"{name}: '{k.Path}' is an array of tables; set it in the TOML file");
                if (k is not null && k.IsArray)
                {
                    var items = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                    if (items.Length == 0) data[key] = "";
                    for (var i = 0; i < items.Length; i++) data[key + ":" + i] = items[i];
                }
                else
                {
                    data[key] = value;
                }
            }
            Data = data;
        }
    }
}
