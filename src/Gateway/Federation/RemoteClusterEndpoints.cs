using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using MoleSignal.Gateway.Auth;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Grains.Abstractions.Query;

namespace MoleSignal.Gateway.Federation;

/// <summary>
/// <c>/api/v1/remote_clusters</c> (root): the clusters federated queries may read. Answers show the token's secret
/// reference, never a token; every change is audited.
/// </summary>
public static class RemoteClusterEndpoints
{
    private sealed record Body(string? Name, string? AdvertiseAddr, string? TokenSecretRef, string? SecretOrg,
        bool? TlsVerify, bool? Enabled);

    public static IEndpointRouteBuilder MapRemoteClusters(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/remote_clusters", List).Requires(Permission.Root);
        app.MapPost("/api/v1/remote_clusters", Create).Requires(Permission.Root);
        app.MapPut("/api/v1/remote_clusters/{name}", Replace).Requires(Permission.Root);
        app.MapDelete("/api/v1/remote_clusters/{name}", Delete).Requires(Permission.Root);
        return app;
    }

    private static async Task<IResult> List(IRemoteClusters clusters, CancellationToken ct) =>
        Results.Json(new { remote_clusters = (await clusters.ListAsync(ct)).Select(Describe) }, GatewayJson.Options);

    private static async Task<IResult> Create(HttpContext ctx, IRemoteClusters clusters, IAuditLog audit,
        CancellationToken ct)
    {
        var body = await AdminBody.ReadAsync<Body>(ctx.Request, ct);
        var name = AdminBody.Required(body.Name, "name");
        if (await clusters.GetAsync(name, ct) is not null)
            throw new AuthException(AuthErrorKind.Conflict, $"remote cluster '{name}' exists: PUT replaces it");
        return await SaveAsync(ctx, clusters, audit, name, body, "remote_cluster_create", 201, ct);
    }

    private static async Task<IResult> Replace(string name, HttpContext ctx, IRemoteClusters clusters,
        IAuditLog audit, CancellationToken ct)
    {
        var body = await AdminBody.ReadAsync<Body>(ctx.Request, ct);
        if (body.Name is { } n && n != name)
            throw new AuthException(AuthErrorKind.Invalid, "'name' differs from the path's name");
        return await SaveAsync(ctx, clusters, audit, name, body, "remote_cluster_put", 200, ct);
    }

    private static async Task<IResult> SaveAsync(HttpContext ctx, IRemoteClusters clusters, IAuditLog audit,
        string name, Body body, string action, int status, CancellationToken ct)
    {
        var saved = await clusters.PutAsync(new RemoteCluster(name,
            AdminBody.Required(body.AdvertiseAddr, "advertise_addr"),
            AdminBody.Required(body.TokenSecretRef, "token_secret_ref"), body.TlsVerify ?? true, body.Enabled ?? true,
            0, body.SecretOrg ?? "default"), ct);
        audit.Record(RequestAuth.Principal(ctx).Actor, null, action, name, RequestAuth.Client(ctx), "ok");
        return Results.Json(Describe(saved), GatewayJson.Options, statusCode: status);
    }

    private static async Task<IResult> Delete(string name, HttpContext ctx, IRemoteClusters clusters,
        IAuditLog audit, CancellationToken ct)
    {
        var deleted = await clusters.DeleteAsync(name, ct);
        audit.Record(RequestAuth.Principal(ctx).Actor, null, "remote_cluster_delete", name, RequestAuth.Client(ctx),
            deleted ? "ok" : "not_found");
        if (!deleted) throw new AuthException(AuthErrorKind.NotFound, $"no remote cluster '{name}'");
        return Results.Json(new { deleted = name }, GatewayJson.Options);
    }

    private static object Describe(RemoteCluster c) => new
    {
        name = c.Name, advertise_addr = c.AdvertiseAddr, token_secret_ref = c.TokenSecretRef,
        secret_org = c.SecretOrg, tls_verify = c.TlsVerify, enabled = c.Enabled, updated_at = c.UpdatedAtMicros,
    };
}
