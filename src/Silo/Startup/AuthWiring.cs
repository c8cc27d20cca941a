using MoleSignal.Grains;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Grains.Audit;
using MoleSignal.Grains.Auth;
using MoleSignal.Grains.Secrets;
using MoleSignal.Grains.Tenancy;
using MoleSignal.Silo.Config;
using MoleSignal.Silo.Workers;

namespace MoleSignal.Silo.Startup;

/// <summary>Config to the auth and tenancy services: principals, accounts, orgs, tokens, audit, quotas,
/// secrets.</summary>
public static class AuthWiring
{
    public static AuthSettings Settings(MoleSignalConfig c) => new(
        c.Auth.Enabled, TimeSpan.FromSeconds(c.Auth.JwtTtlSecs), TimeSpan.FromSeconds(c.Auth.TokenCacheSecs),
        c.Auth.AuditRetentionDays);

    public static QuotaDefaults Quotas(MoleSignalConfig c) => new(
        c.Quotas.IngestBytesPerDay, c.Quotas.MaxStreams, c.Quotas.StoredBytes, c.Quotas.MaxConcurrentQueries);

    public static AuthBootstrap Bootstrap(MoleSignalConfig c) => new(
        c.Secrets.RootUserEmail, c.Secrets.RootUserPassword, c.Secrets.JwtSecretOverride, c.Auth.JwtSecret, c.Node.DataDir);

    public static IServiceCollection AddAuth(this IServiceCollection s, MoleSignalConfig config, byte[] jwtSecret,
        MasterKey master)
    {
        s.AddSingleton(TimeProvider.System);
        s.AddSingleton(new LiveSettings<AuthSettings>(Settings(config)));
        s.AddSingleton(new LiveSettings<QuotaDefaults>(Quotas(config)));
        s.AddSingleton(master);
        s.AddSingleton<AuthStore>();
        s.AddSingleton<CredentialCache>();
        s.AddSingleton<LoginThrottle>();
        s.AddSingleton(sp => new JwtService(jwtSecret, sp.GetRequiredService<TimeProvider>()));
        s.AddSingleton<AuditLog>();
        s.AddSingleton<IAuditLog>(sp => sp.GetRequiredService<AuditLog>());
        s.AddSingleton<IAuthenticator, Authenticator>();
        s.AddSingleton<IAccountService, AccountService>();
        s.AddSingleton<IOrgDirectory, OrgDirectory>();
        s.AddSingleton<ITokenService, TokenService>();
        s.AddSingleton<QuotaService>();
        s.AddSingleton<IQuotaService>(sp => sp.GetRequiredService<QuotaService>());
        s.AddSingleton<ISecretStore, SecretStore>();
        s.AddHostedService<AuthWorkers>();
        return s;
    }

    public static void FollowReloads(IServiceProvider sp)
    {
        var auth = sp.GetRequiredService<LiveSettings<AuthSettings>>();
        var quotas = sp.GetRequiredService<LiveSettings<QuotaDefaults>>();
        sp.GetRequiredService<LiveConfig>().Changed += next =>
        {
            auth.Update(Settings(next));
            quotas.Update(Quotas(next));
        };
    }
}
