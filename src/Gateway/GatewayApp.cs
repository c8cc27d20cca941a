using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using MoleSignal.Gateway.Alerts;
using MoleSignal.Gateway.Audit;
using MoleSignal.Gateway.Auth;
using MoleSignal.Gateway.Cluster;
using MoleSignal.Gateway.Errors;
using MoleSignal.Gateway.Federation;
using MoleSignal.Gateway.Health;
using MoleSignal.Gateway.Ingest;
using MoleSignal.Gateway.Orgs;
using MoleSignal.Gateway.Query;
using MoleSignal.Gateway.Secrets;
using MoleSignal.Gateway.Streams;
using MoleSignal.Gateway.Tls;
using MoleSignal.Gateway.Ui;
using Prometheus;

namespace MoleSignal.Gateway;

/// <param name="HttpPort">The business port: plain HTTP, or HTTPS when TLS is on.</param>
/// <param name="PlainPort">With TLS: the plain port that answers probes and redirects the rest to HTTPS.</param>
public sealed record GatewaySettings(int HttpPort, int GrpcPort, bool MetricsEnabled, int? PlainPort = null);

/// <summary>Wires the HTTP surface: business routes on the HTTP port, gRPC services on the gRPC port.</summary>
public static class GatewayApp
{
    /// <param name="maxGrpcMessageBytes">The largest gRPC message received or sent; a larger one is refused with
    /// RESOURCE_EXHAUSTED before it is read into a message.</param>
    public static IServiceCollection AddGateway(this IServiceCollection services, int maxGrpcMessageBytes)
    {
        services.AddGrpc(o =>
        {
            o.Interceptors.Add<GrpcAuthInterceptor>();
            o.MaxReceiveMessageSize = maxGrpcMessageBytes;
            o.MaxSendMessageSize = maxGrpcMessageBytes;
        });
        services.AddGrpcHealthChecks();
        services.AddGrpcReflection();
        return services;
    }

    public static WebApplication MapGateway(this WebApplication app, GatewaySettings options)
    {
        app.UseJsonErrors();
        if (options.PlainPort is { } plain) app.UsePlainPortRedirect(plain, options.HttpPort);
        app.UseRouting();
        app.UseApiAuth();
        var http = app.MapGroup("").RequireHost($"*:{options.HttpPort}");
        var probes = options.PlainPort is { } p
            ? app.MapGroup("").RequireHost($"*:{options.HttpPort}", $"*:{p}")
            : http;
        probes.MapHealth();
        var api = http.MapGroup("").MapsAuthErrors();
        api.MapAuth();
        api.MapTokens();
        api.MapOrgs();
        api.MapQuotas();
        api.MapAudit();
        api.MapSecrets();
        api.MapIngest();
        api.MapStreams();
        api.MapTail();
        api.MapQuery();
        api.MapCluster();
        api.MapDrain();
        api.MapAlerts();
        api.MapReports();
        api.MapRemoteClusters();
        api.MapLicense();
        if (options.MetricsEnabled) http.MapMetrics("/metrics");
        http.MapUi();
        app.MapGrpcHealthChecksService().RequireHost($"*:{options.GrpcPort}");
        app.MapGrpcService<Ingest.Otlp.OtlpLogsGrpcService>().RequireHost($"*:{options.GrpcPort}");
        app.MapGrpcService<Ingest.Otlp.OtlpTraceService>().RequireHost($"*:{options.GrpcPort}");
        app.MapGrpcService<Ingest.Otlp.OtlpMetricsService>().RequireHost($"*:{options.GrpcPort}");
        app.MapGrpcService<Federation.ScanGrpcService>().RequireHost($"*:{options.GrpcPort}");
        app.MapGrpcService<NodeGrpcService>().RequireHost($"*:{options.GrpcPort}");
        app.MapGrpcReflectionService().RequireHost($"*:{options.GrpcPort}");
        return app;
    }
}
