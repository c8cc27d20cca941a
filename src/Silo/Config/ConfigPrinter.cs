using System.Text;

namespace MoleSignal.Silo.Config;

/// <summary>The effective config as TOML (for --print-config), secrets redacted.</summary>
public static class ConfigPrinter
{
    public static string ToToml(MoleSignalConfig config)
    {
        var sb = new StringBuilder();
        foreach (var group in ConfigSchema.Keys.Values.GroupBy(k => k.Path[..k.Path.LastIndexOf('.')]))
        {
            sb.Append('[').Append(group.Key).Append("]\n");
            foreach (var key in group)
            {
                var name = key.Path[(key.Path.LastIndexOf('.') + 1)..];
                sb.Append(name).Append(" = ").Append(Format(key, key.GetValue(config))).Append('\n');
            }
            sb.Append('\n');
        }
        sb.Append("# flat secrets from the environment\n");
        sb.Append("# MS_CIPHER_KEY = ").Append(Redact(config.Secrets.CipherKey)).Append('\n');
        sb.Append("# MS_AUTH_JWT_SECRET_OVERRIDE = ").Append(Redact(config.Secrets.JwtSecretOverride)).Append('\n');
        sb.Append("# MS_ROOT_USER_EMAIL = ").Append(config.Secrets.RootUserEmail is null ? "(unset)" : Quote(config.Secrets.RootUserEmail)).Append('\n');
        sb.Append("# MS_ROOT_USER_PASSWORD = ").Append(Redact(config.Secrets.RootUserPassword)).Append('\n');
        sb.Append("# MS_LICENSE_FILE = ").Append(config.Secrets.LicenseFile is null ? "(unset)" : Quote(config.Secrets.LicenseFile)).Append('\n');
        return sb.ToString();
    }

    private static string Format(ConfigKey key, object? value)
    {
        if (key.IsSecret) return Quote(key.Path == "store.meta.dsn" ? RedactDsn(value as string ?? "") : string.IsNullOrEmpty(value as string) ? "" : "***");
        return value switch
        {
            string s => Quote(s),
            string[] a => "[" + string.Join(", ", a.Select(Quote)) + "]",
            Array tables => "[" + string.Join(", ", tables.Cast<object>().Select(t => "{ " + string.Join(", ",
                t.GetType().GetProperties().Select(p => $"{ConfigSchema.KeyName(p)} = {Format(key, p.GetValue(t))}")) + " }")) + "]",
            bool b => b ? "true" : "false",
            IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
            _ => Quote(value?.ToString() ?? ""),
        };
    }

    // A DSN is useful to see without its password.
    private static string RedactDsn(string value)
    {
        if (Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.UserInfo.Length > 0)
        {
            var user = uri.UserInfo.Split(':')[0];
            return value.Replace(uri.UserInfo, user + ":***");
        }
        if (value.Contains('=')) // keyword form
            return string.Join(';', value.Split(';').Select(p =>
                p.TrimStart().StartsWith("password", StringComparison.OrdinalIgnoreCase) ? p[..(p.IndexOf('=') + 1)] + "***" : p));
        return value; // a SQLite path carries no credentials
    }

    private static string Redact(string? s) => s is null ? "(unset)" : "\"***\"";

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
