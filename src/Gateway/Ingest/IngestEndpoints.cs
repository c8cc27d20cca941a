using Microsoft.AspNetCore.Routing;
using MoleSignal.Gateway.Ingest.Elasticsearch;
using MoleSignal.Gateway.Ingest.Json;
using MoleSignal.Gateway.Ingest.Loki;
using MoleSignal.Gateway.Ingest.Otlp;
using MoleSignal.Gateway.Ingest.RemoteWrite;

namespace MoleSignal.Gateway.Ingest;

/// <summary>Every ingest protocol's routes; each protocol's folder holds its driver.</summary>
public static class IngestEndpoints
{
    public static IEndpointRouteBuilder MapIngest(this IEndpointRouteBuilder app)
    {
        app.MapJsonIngest();
        app.MapElasticsearch();
        app.MapOtlpHttp();
        app.MapLoki();
        app.MapPrometheusRemoteWrite();
        return app;
    }
}
