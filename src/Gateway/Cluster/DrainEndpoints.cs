using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using MoleSignal.Gateway.Auth;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Grains.Abstractions.Ingest;

namespace MoleSignal.Gateway.Cluster;

/// <summary>
/// <c>POST /api/v1/node/drain</c> starts this node's drain (an ingester's preStop hook, through
/// <c>molesignal drain</c>); <c>GET</c> reports it. Root only: it stops the node taking data.
/// </summary>
public static class DrainEndpoints
{
    public static IEndpointRouteBuilder MapDrain(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/node/drain", (INodeDrain drain) => Describe(drain.Start(), 202)).Requires(Permission.Root);
        app.MapGet("/api/v1/node/drain", (INodeDrain drain) => Describe(drain.Status, 200)).Requires(Permission.Root);
        return app;
    }

    private static IResult Describe(DrainStatus s, int status) => Results.Json(new
    {
        state = s.State.ToString().ToLowerInvariant(),
        streams = s.Streams,
        buffered_bytes = s.BufferedBytes,
        error = s.Error,
    }, GatewayJson.Options, statusCode: status);
}
