using MoleSignal.Grains;
using MoleSignal.Grains.Abstractions.Alerts;
using MoleSignal.Grains.Alerts;
using MoleSignal.Grains.Reports;
using MoleSignal.Silo.Config;
using MoleSignal.Silo.Roles;
using MoleSignal.Silo.Workers;

namespace MoleSignal.Silo.Startup;

/// <summary>Alert rules, destinations and incidents on every node (the API serves them); the evaluator and the
/// dispatcher loops on nodes of the alert_manager role only.</summary>
public static class AlertWiring
{
    public static AlertSettings Settings(MoleSignalConfig c)
    {
        var a = c.AlertManager;
        return new AlertSettings(TimeSpan.FromSeconds(a.EvalIntervalSecs), TimeSpan.FromSeconds(a.DispatchIntervalSecs),
            TimeSpan.FromSeconds(a.LeaseSecs), TimeSpan.FromSeconds(a.EvalTimeoutSecs), a.MaxCatchUpWindows,
            a.MaxAttempts, TimeSpan.FromSeconds(a.RetryBaseSecs), a.MaxRulesPerOrg, a.MaxDestinationsPerOrg);
    }

    public static IServiceCollection AddAlerts(this IServiceCollection s, MoleSignalConfig config, RoleSet roles)
    {
        s.AddSingleton(new LiveSettings<AlertSettings>(Settings(config)));
        s.AddSingleton<RuleValidation>();
        s.AddSingleton<WindowEvaluator>();
        s.AddSingleton<NotificationSender>();
        s.AddSingleton<AlertRuleStore>();
        s.AddSingleton<IAlertRules>(sp => sp.GetRequiredService<AlertRuleStore>());
        s.AddSingleton<DestinationStore>();
        s.AddSingleton<IAlertDestinations>(sp => sp.GetRequiredService<DestinationStore>());
        s.AddSingleton<IncidentStore>();
        s.AddSingleton<IIncidents>(sp => sp.GetRequiredService<IncidentStore>());
        s.AddSingleton<ReportStore>();
        s.AddSingleton<IReports>(sp => sp.GetRequiredService<ReportStore>());
        if (!roles.Runs(RoleSet.AlertManager)) return s;
        s.AddSingleton<AlertEvaluator>();
        s.AddSingleton<Dispatcher>();
        s.AddSingleton(new ChromiumRenderer(config.Reports.ChromiumPath,
            Path.Combine(config.Node.DataDir, "reports-tmp")));
        s.AddSingleton<ReportRunner>();
        s.AddHostedService<AlertManagerWorkers>();
        return s;
    }

    public static void FollowReloads(IServiceProvider sp)
    {
        var live = sp.GetRequiredService<LiveConfig>();
        var source = sp.GetRequiredService<LiveSettings<AlertSettings>>();
        live.Changed += next => source.Update(Settings(next));
    }
}
