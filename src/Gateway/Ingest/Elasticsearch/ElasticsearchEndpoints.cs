using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using MoleSignal.Gateway.Auth;
using MoleSignal.Gateway.RateLimits;
using MoleSignal.Grains.Abstractions.Auth;

namespace MoleSignal.Gateway.Ingest.Elasticsearch;

/// <summary>
/// The Elasticsearch API a shipper needs, under <c>/api/v1</c> and, as OpenObserve serves it, <c>/api/{org}</c>: the
/// bulk endpoint, and the handshake Beats, Logstash, Vector and Fluent Bit probe before they send (cluster info,
/// license, templates, ILM policies, data streams, ingest pipelines), answered so that the shipper goes on sending.
/// Every answer carries the product header the official clients check.
/// </summary>
public static class ElasticsearchEndpoints
{
    public static IEndpointRouteBuilder MapElasticsearch(this IEndpointRouteBuilder app)
    {
        Map(app.MapGroup("/api/v1"), null);
        Map(app.MapGroup("/api/{org}"), "org");
        return app;
    }

    private static readonly string[] Write = ["POST", "PUT"];
    private static readonly string[] Read = ["GET", "HEAD"];
    private static readonly string[] Any = ["GET", "HEAD", "PUT", "POST"];

    private static void Map(RouteGroupBuilder api, string? orgRoute)
    {
        var es = api.MapGroup("").AddEndpointFilter(async (context, next) =>
        {
            EsAnswers.MarkProduct(context.HttpContext.Response);
            return await next(context);
        });
        es.MapMethods("/_bulk", Write, (HttpRequest request, IngestPipeline pipeline, CancellationToken ct) =>
                BulkEndpoint.HandleAsync(request, null, pipeline, ct))
            .Requires(Permission.Ingest, orgRoute).RateLimited(RouteClass.Ingest);
        es.MapMethods("/{index}/_bulk", Write,
                (string index, HttpRequest request, IngestPipeline pipeline, CancellationToken ct) =>
                    BulkEndpoint.HandleAsync(request, index, pipeline, ct))
            .Requires(Permission.Ingest, orgRoute).RateLimited(RouteClass.Ingest);
        es.MapMethods("/", Read, () => EsAnswers.Json(Handshake.ClusterInfo)).Requires(Permission.Ingest, orgRoute);
        es.MapGet("/_license", () => EsAnswers.Json(Handshake.License)).Requires(Permission.Ingest, orgRoute);
        es.MapGet("/_xpack", () => EsAnswers.Json(Handshake.XPack)).Requires(Permission.Ingest, orgRoute);
        es.MapMethods("/_index_template/{name}", Any, (string name, HttpRequest r) =>
            Handshake.Answer(r, Handshake.IndexTemplate(name))).Requires(Permission.Ingest, orgRoute);
        es.MapMethods("/_template/{name}", Any, (string name, HttpRequest r) =>
            Handshake.Answer(r, Handshake.LegacyTemplate(name))).Requires(Permission.Ingest, orgRoute);
        es.MapMethods("/_ilm/policy/{name}", Any, (string name, HttpRequest r) =>
            Handshake.Answer(r, Handshake.IlmPolicy(name))).Requires(Permission.Ingest, orgRoute);
        es.MapMethods("/_data_stream/{name}", Any, (string name, HttpRequest r) =>
            Handshake.Answer(r, Handshake.DataStream(name))).Requires(Permission.Ingest, orgRoute);
        es.MapMethods("/_ingest/pipeline/{name}", Any, (string name, HttpRequest r) =>
            Handshake.Answer(r, Handshake.Pipeline(name))).Requires(Permission.Ingest, orgRoute);
    }
}
