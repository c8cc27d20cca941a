namespace MoleSignal.Silo.Startup;

/// <param name="Command">null: run the node; else a one-shot command (<c>routes</c>, <c>rotate-cipher-key</c>).</param>
public sealed record CommandLine(string? ConfigPath, bool PrintConfig, bool Help, string? Command = null)
{
    public const string Routes = "routes", RotateCipherKey = "rotate-cipher-key", Healthcheck = "healthcheck",
        Drain = "drain";

    public const string Usage = """
        usage: molesignal [routes | rotate-cipher-key | healthcheck | drain] [--config PATH] [--print-config]
          --config PATH      TOML config (without it: embedded standalone defaults, SQLite + local disk)
          --print-config     print the effective config (defaults < TOML < MS_ environment), secrets redacted, and exit
          routes             print every route of the HTTP and gRPC ports with the access it needs, and exit
          rotate-cipher-key  re-wrap the stored secrets' data keys from MS_CIPHER_KEY to MS_CIPHER_KEY_NEW, and exit
          healthcheck        exit 0 when this node's /healthz answers 200 on 127.0.0.1:http.port, else 1
          drain              drain this node (as root, MS_ROOT_USER_EMAIL/_PASSWORD): refuse appends, flush every
                             buffer, remove the WALs; exit 0 when done (an ingester's preStop hook)
        environment: MS_<SECTION>.<FIELD> overrides a key (MS_HTTP.PORT=5090, MS_NODE.ROLES=ingester,querier);
                     MS_CIPHER_KEY, MS_AUTH_JWT_SECRET_OVERRIDE, MS_ROOT_USER_EMAIL, MS_ROOT_USER_PASSWORD,
                     MS_LICENSE_FILE are read directly
        """;

    public static CommandLine Parse(string[] args)
    {
        string? config = null;
        bool print = false, help = false;
        string? command = null;
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
                case Routes or RotateCipherKey or Healthcheck or Drain when i == 0:
                    command = args[i];
                    break;
                default:
                    throw new ArgumentException($"unknown argument '{args[i]}'");
            }
        }
        return new CommandLine(config, print, help, command);
    }
}
