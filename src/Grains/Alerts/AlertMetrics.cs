using Prometheus;

namespace MoleSignal.Grains.Alerts;

public static class AlertMetrics
{
    public static readonly Counter Evaluations = Metrics.CreateCounter("alert_evaluations_total",
        "Evaluated rule windows by result (fired, quiet, error).", "result");

    public static readonly Counter EvalTimeouts = Metrics.CreateCounter("alert_rule_eval_timeout_total",
        "Rule windows whose query ran past [alert_manager].eval_timeout_secs and was cancelled.");

    public static readonly Counter EvalErrors = Metrics.CreateCounter("alert_rule_eval_errors_total",
        "Rule windows whose evaluation failed (a timeout included).");

    public static readonly Counter SkippedWindows = Metrics.CreateCounter("alert_skipped_windows_total",
        "Windows not evaluated because more than [alert_manager].max_catch_up_windows were behind.");

    public static readonly Histogram EvalLag = Metrics.CreateHistogram("alert_evaluation_lag_seconds",
        "From when a window was due to when its evaluation started.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.01, 2, 16) });

    public static readonly Counter Notifications = Metrics.CreateCounter("alert_notifications_total",
        "Notification attempts by destination kind and result (delivered, retried, failed).", "kind", "result");

    public static readonly Gauge IncidentsOpen = Metrics.CreateGauge("alert_incidents_open",
        "Incidents not resolved (open or acknowledged), over every org, as of the last evaluator run.");
}
