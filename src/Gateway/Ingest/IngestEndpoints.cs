using Microsoft.AspNetCore.Routing;
using MoleSignal.Gateway.Ingest.Elasticsearch;
using MoleSignal.Gateway.Ingest.Json;
using MoleSignal.Gateway.Ingest.Otlp;

namespace MoleSignal.Gateway.Ingest;

/// <summary>Every ingest protocol's routes; each protocol's folder holds its driver.</summary>
public static class IngestEndpoints
{
    public static IEndpointRouteBuilder MapIngest(this IEndpointRouteBuilder app)
    {
        app.MapJsonIngest();
        app.MapElasticsearch();
        app.MapOtlpHttp();
        return app;
    }
}
