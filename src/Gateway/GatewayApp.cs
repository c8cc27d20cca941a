using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using MoleSignal.Gateway.Cluster;
using MoleSignal.Gateway.Errors;
using MoleSignal.Gateway.Health;
using MoleSignal.Gateway.Ingest;
using MoleSignal.Gateway.Query;
using MoleSignal.Gateway.Streams;
using Prometheus;

namespace MoleSignal.Gateway;

public sealed record GatewaySettings(int HttpPort, int GrpcPort, bool MetricsEnabled);

/// <summary>Wires the HTTP surface: business routes on the HTTP port, gRPC services on the gRPC port.</summary>
public static class GatewayApp
{
    public static IServiceCollection AddGateway(this IServiceCollection services)
    {
        services.AddGrpc();
        services.AddGrpcHealthChecks();
        return services;
    }

    public static WebApplication MapGateway(this WebApplication app, GatewaySettings options)
    {
        app.UseJsonErrors();
        var http = app.MapGroup("").RequireHost($"*:{options.HttpPort}");
        http.MapHealth();
        var orgScoped = http.MapOrgScoped();
        orgScoped.MapIngest();
        orgScoped.MapStreams();
        orgScoped.MapQuery();
        http.MapCluster();
        if (options.MetricsEnabled) http.MapMetrics("/metrics");
        app.MapGrpcHealthChecksService().RequireHost($"*:{options.GrpcPort}");
        return app;
    }
}
