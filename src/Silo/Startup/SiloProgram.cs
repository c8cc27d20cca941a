using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using MoleSignal.Gateway;
using MoleSignal.Grains.Auth;
using MoleSignal.Grains.Cluster;
using MoleSignal.Grains.Secrets;
using MoleSignal.Grains.Metadata;
using MoleSignal.Grains.Storage;
using MoleSignal.Silo.Config;
using MoleSignal.Silo.Roles;
using MoleSignal.Silo.Tls;
using Orleans.Configuration;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace MoleSignal.Silo.Startup;

/// <summary>One process = one Orleans silo + Kestrel (HTTP and gRPC ports) in the same host.</summary>
public static class SiloProgram
{
    /// <summary>Exit codes: 0 ok, 2 bad arguments or config, 3 object store startup probe failed, 4 metadata store failed.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        CommandLine cmd;
        try
        {
            cmd = CommandLine.Parse(args);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"molesignal: {e.Message}\n{CommandLine.Usage}");
            return 2;
        }
        if (cmd.Help)
        {
            Console.WriteLine(CommandLine.Usage);
            return 0;
        }

        IConfigurationRoot root;
        MoleSignalConfig config;
        try
        {
            root = ConfigLoader.BuildRoot(cmd.ConfigPath, reloadOnChange: !cmd.PrintConfig);
            config = ConfigBinder.Bind(root);
            if (cmd.PrintConfig)
            {
                Console.Write(ConfigPrinter.ToToml(config));
                return 0;
            }
            // One-shot commands run beside a node: they take no identity of their own (nor write its file).
            if (cmd.Command is null) config.Node.Id = NodeIdentity.Resolve(config.Node);
        }
        catch (ConfigException e)
        {
            await Console.Error.WriteLineAsync($"molesignal: {e.Message}");
            return 2;
        }

        var roles = new RoleSet(config.Node.Roles);
        if (cmd.Command == CommandLine.Routes) return RouteTable.Print(config, root, roles);
        if (cmd.Command == CommandLine.RotateCipherKey) return await CipherKeyRotation.RunAsync(config);
        if (cmd.Command == CommandLine.Healthcheck) return await NodeCommands.HealthcheckAsync(config);
        if (cmd.Command == CommandLine.Drain) return await NodeCommands.DrainAsync(config);
        IObjectStore objectStore;
        MetaStore meta;
        try
        {
            objectStore = StoreFactory.CreateObjectStore(config.Store.Object);
            meta = StoreFactory.CreateMetaStore(config);
        }
        catch (ConfigException e)
        {
            await Console.Error.WriteLineAsync($"molesignal: {e.Message}");
            return 2;
        }
        catch (Exception e)
        {
            await Console.Error.WriteLineAsync($"molesignal: object store ({config.Store.Object.Backend}) cannot be opened: {e.Message}");
            return 3;
        }

        var probe = new ObjectStoreProbe(objectStore);
        try
        {
            await probe.RoundTripAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        }
        catch (Exception e)
        {
            await Console.Error.WriteLineAsync(
                $"molesignal: object store startup probe failed ({config.Store.Object.Backend}): {e.Message}");
            return 3;
        }

        try
        {
            await MigrationRunner.ApplyAsync(meta);
        }
        catch (Exception e)
        {
            await Console.Error.WriteLineAsync($"molesignal: metadata store {meta.Description} is not usable: {e.Message}");
            return 4;
        }

        MasterKey master;
        try
        {
            master = MasterKey.From(config.Secrets.CipherKey);
        }
        catch (FormatException e)
        {
            await Console.Error.WriteLineAsync($"molesignal: {e.Message}");
            return 2;
        }
        if (master.IsDev && ClusterMode.IsOn(meta, roles))
        {
            await Console.Error.WriteLineAsync("molesignal: a cluster-mode node needs MS_CIPHER_KEY (base64 of 32 random bytes, " +
                                               "not the all-zero dev key): stored secrets would be readable by anyone with the database");
            return 2;
        }
        AuthBootstrapper.Result boot;
        try
        {
            boot = await AuthBootstrapper.RunAsync(meta, AuthWiring.Bootstrap(config), TimeProvider.System, CancellationToken.None);
        }
        catch (Exception e)
        {
            await Console.Error.WriteLineAsync($"molesignal: auth bootstrap on {meta.Description} failed: {e.Message}");
            return 4;
        }
        if (boot.GeneratedPassword is not null)
            Console.WriteLine($"molesignal: created the root user {AuthBootstrapper.DefaultRootEmail} with password " +
                              $"{boot.GeneratedPassword} (also in {boot.PasswordFile}, mode 0600); it is not shown again");

        CertificateFiles? certificates;
        try
        {
            certificates = config.Http.Tls.Enabled ? CertificateFiles.Open(config.Http.Tls) : null;
        }
        catch (ConfigException e)
        {
            await Console.Error.WriteLineAsync($"molesignal: {e.Message}");
            return 2;
        }

        IngesterReplay.SetAside(roles, config);
        var app = Build(config, root, roles, objectStore, probe, meta, boot.JwtSecret, master, certificates);
        if (certificates is not null) certificates.Log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("MoleSignal.Tls");
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("MoleSignal");
        IngestWiring.FollowReloads(app.Services); // also starts watching the config file
        QueryWiring.FollowReloads(app.Services);
        AuthWiring.FollowReloads(app.Services);
        CompactionWiring.FollowReloads(app.Services);
        AlertWiring.FollowReloads(app.Services);
        FederationWiring.FollowReloads(app.Services);
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            log.LogInformation(
                "molesignal node {NodeId} roles [{Roles}] http {HttpBind}:{HttpPort} grpc {GrpcBind}:{GrpcPort} meta {Meta} objects {Objects}",
                config.Node.Id, roles, config.Http.Bind, config.Http.Port, config.Grpc.Bind, config.Grpc.Port,
                meta.Description, config.Store.Object.Backend);
            if (!config.Auth.Enabled)
                log.LogWarning("auth is OFF ([auth].enabled = false): every request acts as root; loopback sandbox only");
            if (master.IsDev)
                log.LogWarning("MS_CIPHER_KEY is not set: stored secrets are sealed under the all-zero dev key");
            FederationWiring.WarnAboutLicense(app.Services, config, log);
            if (boot.DeprecatedSecretUsed)
                log.LogWarning("[auth].jwt_secret is deprecated: pin the JWT secret with MS_AUTH_JWT_SECRET_OVERRIDE");
        });
        await app.RunAsync();
        return 0;
    }

    /// <summary>The node's web application, its routes mapped; nothing is started or opened until it runs.</summary>
    internal static WebApplication Build(MoleSignalConfig config, IConfigurationRoot root, RoleSet roles,
        IObjectStore objectStore, ObjectStoreProbe probe, MetaStore meta, byte[] jwtSecret, MasterKey master,
        CertificateFiles? certificates = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
        });
        builder.Logging.AddFilter("Orleans", LogLevel.Warning);
        builder.Logging.AddFilter("Orleans.Runtime.Silo", LogLevel.Error); // its ServerGC note is noise on 2 cores
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Polly", LogLevel.Warning);

        builder.WebHost.ConfigureKestrel(k =>
        {
            if (certificates is null)
            {
                Listen(k, config.Http.Bind, config.Http.Port, HttpProtocols.Http1);
                Listen(k, config.Grpc.Bind, config.Grpc.Port, HttpProtocols.Http2);
            }
            else
            {
                // HTTPS replaces the plain business port; the plain port only redirects (and answers probes).
                Listen(k, config.Http.Bind, config.Http.Tls.Port, HttpProtocols.Http1AndHttp2, certificates);
                Listen(k, config.Http.Bind, config.Http.Tls.PlainPort, HttpProtocols.Http1);
                Listen(k, config.Grpc.Bind, config.Grpc.Port, HttpProtocols.Http2, certificates);
            }
            k.Limits.MaxRequestBodySize = (long)config.Http.MaxBodyMb * 1024 * 1024;
        });

        builder.UseOrleans(silo =>
        {
            if (ClusterMode.IsOn(meta, roles))
            {
                UseClusterMembership(silo, config, meta);
                ClusterTls.Use(silo, config.Cluster);
            }
            else
                silo.UseLocalhostClustering(config.Cluster.SiloPort, config.Cluster.GatewayPort, null,
                    serviceId: config.Cluster.ClusterId, clusterId: config.Cluster.ClusterId);
            silo.UseSiloMetadata(new Dictionary<string, string> { [SiloRoles.MetadataKey] = roles.MetadataValue, ["node_id"] = config.Node.Id });
            silo.Configure<SiloOptions>(o => o.SiloName = config.Node.Id);
            silo.Services.AddMoleSignalPlacement();
        });

        builder.Services.AddMoleSignalNode(config, root, roles, objectStore, probe, meta);
        builder.Services.AddAuth(config, jwtSecret, master);
        builder.Services.AddAlerts(config, roles); // destinations reveal secrets: after auth
        builder.Services.AddFederation(config); // remote tokens too
        builder.Services.AddGateway(config.Grpc.MaxMessageSizeMb << 20);

        if (certificates is not null) builder.Services.AddSingleton(certificates); // disposed with the host
        var app = builder.Build();
        app.MapGateway(certificates is null
            ? new GatewaySettings(config.Http.Port, config.Grpc.Port, config.Telemetry.MetricsEnabled)
            : new GatewaySettings(config.Http.Tls.Port, config.Grpc.Port, config.Telemetry.MetricsEnabled, config.Http.Tls.PlainPort));
        return app;
    }

    /// <summary>
    /// Cluster mode: membership in the metadata Postgres (tables from our migrations), silo and gateway ports on
    /// the host of [cluster].advertise_addr, so peers on other machines reach this silo.
    /// </summary>
    private static void UseClusterMembership(ISiloBuilder silo, MoleSignalConfig config, MetaStore meta)
    {
        silo.UseAdoNetClustering(o =>
        {
            o.Invariant = "Npgsql";
            o.DataSource = meta.MembershipDataSource ?? meta.DataSource;
        });
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = config.Cluster.ClusterId;
            o.ServiceId = config.Cluster.ClusterId;
        });
        silo.ConfigureEndpoints(AdvertisedAddress(config.Cluster.AdvertiseAddr), config.Cluster.SiloPort, config.Cluster.GatewayPort);
    }

    /// <summary>The IP of <c>host:port</c> ("10.0.1.21:5082", "[::1]:5082", or a name such as "ingester-0.ms:5082").</summary>
    private static IPAddress AdvertisedAddress(string advertiseAddr)
    {
        if (IPEndPoint.TryParse(advertiseAddr, out var endpoint)) return endpoint.Address;
        var colon = advertiseAddr.LastIndexOf(':');
        var host = colon > 0 ? advertiseAddr[..colon] : advertiseAddr;
        return Dns.GetHostAddresses(host).First(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork);
    }

    private static void Listen(KestrelServerOptions k, string bind, int port, HttpProtocols protocols,
        CertificateFiles? certificates = null)
    {
        void Configure(ListenOptions o)
        {
            o.Protocols = protocols;
            if (certificates is not null)
                o.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificateSelector = (_, name) => certificates.Select(name),
                    SslProtocols = System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13,
                });
        }
        if (bind is "localhost") k.ListenLocalhost(port, Configure);
        else if (IPAddress.TryParse(bind, out var ip)) k.Listen(ip, port, Configure);
        else k.Listen(Dns.GetHostAddresses(bind)[0], port, Configure);
    }
}
