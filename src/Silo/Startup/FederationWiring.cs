using MoleSignal.Grains;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Grains.Abstractions.Query;
using MoleSignal.Grains.Federation;
using MoleSignal.Grains.Metadata;
using MoleSignal.Silo.Config;

namespace MoleSignal.Silo.Startup;

/// <summary>The license, the remote clusters and both sides of a federated query (the coordinator's fan-out and
/// the Scan service's reads).</summary>
public static class FederationWiring
{
    public static FederationSettings Settings(MoleSignalConfig c) =>
        new(TimeSpan.FromSeconds(c.Federation.RemoteTimeoutSecs));

    /// <summary>After auth: a remote's token is revealed from the secret store.</summary>
    public static IServiceCollection AddFederation(this IServiceCollection s, MoleSignalConfig config)
    {
        s.AddSingleton(new LiveSettings<FederationSettings>(Settings(config)));
        s.AddSingleton<ILicense>(sp => new License(config.Secrets.LicenseFile, config.License.TrustedPublicKeys,
            sp.GetRequiredService<TimeProvider>()));
        s.AddSingleton<IRemoteClusters>(sp => new RemoteClusterStore(sp.GetRequiredService<MetaStore>(),
            sp.GetRequiredService<TimeProvider>()));
        s.AddSingleton(sp => new RemoteScanClient(sp.GetRequiredService<ISecretStore>(),
            config.Grpc.MaxMessageSizeMb << 20));
        s.AddSingleton<Federator>();
        s.AddSingleton<IStreamScanner, StreamScanner>();
        return s;
    }

    public static void FollowReloads(IServiceProvider sp)
    {
        var source = sp.GetRequiredService<LiveSettings<FederationSettings>>();
        sp.GetRequiredService<LiveConfig>().Changed += next => source.Update(Settings(next));
    }

    /// <summary>A license file that does not hold is said at every start (its features stay off).</summary>
    public static void WarnAboutLicense(IServiceProvider sp, MoleSignalConfig config, ILogger log)
    {
        var state = sp.GetRequiredService<ILicense>().Current;
        if (config.Secrets.LicenseFile is not null && !state.Valid)
            log.LogWarning("license {File} does not hold: {Reason}; licensed features are off",
                config.Secrets.LicenseFile, state.Reason);
        else if (state.Valid)
            log.LogInformation("licensed to {Licensee} until {Expires:O}: {Features}", state.Licensee, state.Expires,
                string.Join(", ", state.Features));
    }
}
