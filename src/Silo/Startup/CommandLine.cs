namespace MoleSignal.Silo.Startup;

public sealed record CommandLine(string? ConfigPath, bool PrintConfig, bool Help)
{
    public const string Usage = """
        usage: molesignal [--config PATH] [--print-config]
          --config PATH    TOML config (without it: embedded standalone defaults, SQLite + local disk)
          --print-config   print the effective config (defaults < TOML < MS_ environment), secrets redacted, and exit
        environment: MS_<SECTION>.<FIELD> overrides a key (MS_HTTP.PORT=5090, MS_NODE.ROLES=ingester,querier);
                     MS_CIPHER_KEY, MS_AUTH_JWT_SECRET_OVERRIDE, MS_LICENSE_FILE are read directly
        """;

    public static CommandLine Parse(string[] args)
    {
        string? config = null;
        bool print = false, help = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--config" or "-c" when i + 1 < args.Length:
                    config = args[++i];
                    break;
                case var a when a.StartsWith("--config=", StringComparison.Ordinal):
                    config = a["--config=".Length..];
                    break;
                case "--print-config":
                    print = true;
                    break;
                case "--help" or "-h":
                    help = true;
                    break;
                default:
                    throw new ArgumentException($"unknown argument '{args[i]}'");
            }
        }
        return new CommandLine(config, print, help);
    }
}
