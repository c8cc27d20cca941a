using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using MoleSignal.Gateway.Auth;
using MoleSignal.Grains.Abstractions.Auth;

namespace MoleSignal.Gateway.Secrets;

/// <summary>
/// <c>/api/v1/secrets</c>: an org's sealed secrets (admins). Answers carry name, id, reference and creation time,
/// never the value.
/// </summary>
public static class SecretEndpoints
{
    private sealed record PutBody(string? Name, string? Value);

    public static IEndpointRouteBuilder MapSecrets(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/secrets", Put).Requires(Permission.Admin);
        app.MapGet("/api/v1/secrets", List).Requires(Permission.Admin);
        app.MapDelete("/api/v1/secrets/{id}", Delete).Requires(Permission.Admin);
        return app;
    }

    private static async Task<IResult> Put(HttpContext ctx, ISecretStore secrets, CancellationToken ct)
    {
        var body = await AdminBody.ReadAsync<PutBody>(ctx.Request, ct);
        var info = await secrets.PutAsync(RequestAuth.Principal(ctx), OrgHeader.Current(ctx.Request),
            AdminBody.Required(body.Name, "name"),
            body.Value ?? throw new AuthException(AuthErrorKind.Invalid,
                "'value' is required"), RequestAuth.Client(ctx), ct);
        return Results.Json(Describe(info), GatewayJson.Options, statusCode: 201);
    }

    private static async Task<IResult> List(HttpContext ctx, ISecretStore secrets, CancellationToken ct)
    {
        var list = await secrets.ListAsync(OrgHeader.Current(ctx.Request), ct);
        return Results.Json(new { secrets = list.Select(Describe) }, GatewayJson.Options);
    }

    private static async Task<IResult> Delete(string id, HttpContext ctx, ISecretStore secrets, CancellationToken ct)
    {
        await secrets.DeleteAsync(RequestAuth.Principal(ctx), OrgHeader.Current(ctx.Request), id,
            RequestAuth.Client(ctx), ct);
        return Results.Json(new { deleted = id }, GatewayJson.Options);
    }

    private static object Describe(SecretInfo s) => new { id = s.Id, name = s.Name, reference = s.Reference,
        created_at = s.CreatedAtMicros };
}
