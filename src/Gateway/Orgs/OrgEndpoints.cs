using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using MoleSignal.Gateway.Auth;
using MoleSignal.Grains.Abstractions.Auth;

namespace MoleSignal.Gateway.Orgs;

/// <summary><c>/api/v1/orgs</c> (root creates, renames, deletes; members see theirs) and their members
/// (admins).</summary>
public static class OrgEndpoints
{
    private sealed record OrgBody(string? Org, string? Name);

    private sealed record MemberBody(string? Email, string? Role, string? Password);

    public static IEndpointRouteBuilder MapOrgs(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/orgs", List).RequiresPrincipal();
        app.MapPost("/api/v1/orgs", Create).Requires(Permission.Root);
        app.MapGet("/api/v1/orgs/{org}", Get).Requires(Permission.Read, "org");
        app.MapPut("/api/v1/orgs/{org}", Rename).Requires(Permission.Root, "org");
        app.MapDelete("/api/v1/orgs/{org}", Delete).Requires(Permission.Root, "org");
        app.MapGet("/api/v1/orgs/{org}/members", Members).Requires(Permission.Admin, "org");
        app.MapPost("/api/v1/orgs/{org}/members", AddMember).Requires(Permission.Admin, "org");
        app.MapPut("/api/v1/orgs/{org}/members/{email}", SetRole).Requires(Permission.Admin, "org");
        app.MapDelete("/api/v1/orgs/{org}/members/{email}", RemoveMember).Requires(Permission.Admin, "org");
        return app;
    }

    private static async Task<IResult> List(HttpContext ctx, IOrgDirectory orgs, CancellationToken ct)
    {
        var list = await orgs.ListAsync(RequestAuth.Principal(ctx), ct);
        return Results.Json(new { orgs = list.Select(Describe) }, GatewayJson.Options);
    }

    private static async Task<IResult> Create(HttpContext ctx, IOrgDirectory orgs, CancellationToken ct)
    {
        var body = await AdminBody.ReadAsync<OrgBody>(ctx.Request, ct);
        var org = Ingest.NameRules.Normalize(AdminBody.Required(body.Org, "org"))
                  ?? throw new AuthException(AuthErrorKind.Invalid, OrgHeader.InvalidMessage);
        var created = await orgs.CreateAsync(RequestAuth.Principal(ctx), org, body.Name, RequestAuth.Client(ctx), ct);
        return Results.Json(Describe(created), GatewayJson.Options, statusCode: 201);
    }

    private static async Task<IResult> Get(HttpContext ctx, IOrgDirectory orgs, CancellationToken ct)
    {
        var org = OrgHeader.Current(ctx.Request);
        var info = await orgs.GetAsync(org, ct) ?? throw new AuthException(AuthErrorKind.NotFound, $"no org '{org}'");
        return Results.Json(Describe(info), GatewayJson.Options);
    }

    private static async Task<IResult> Rename(HttpContext ctx, IOrgDirectory orgs, CancellationToken ct)
    {
        var body = await AdminBody.ReadAsync<OrgBody>(ctx.Request, ct);
        var info = await orgs.RenameAsync(RequestAuth.Principal(ctx), OrgHeader.Current(ctx.Request),
            AdminBody.Required(body.Name, "name"), RequestAuth.Client(ctx), ct);
        return Results.Json(Describe(info), GatewayJson.Options);
    }

    private static async Task<IResult> Delete(HttpContext ctx, IOrgDirectory orgs, CancellationToken ct)
    {
        var org = OrgHeader.Current(ctx.Request);
        await orgs.DeleteAsync(RequestAuth.Principal(ctx), org, RequestAuth.Client(ctx), ct);
        return Results.Json(new { deleted = org }, GatewayJson.Options);
    }

    private static async Task<IResult> Members(HttpContext ctx, IOrgDirectory orgs, CancellationToken ct)
    {
        var list = await orgs.MembersAsync(OrgHeader.Current(ctx.Request), ct);
        return Results.Json(new { members = list.Select(Describe) }, GatewayJson.Options);
    }

    private static async Task<IResult> AddMember(HttpContext ctx, IOrgDirectory orgs, CancellationToken ct)
    {
        var body = await AdminBody.ReadAsync<MemberBody>(ctx.Request, ct);
        var member = await orgs.AddMemberAsync(RequestAuth.Principal(ctx), OrgHeader.Current(ctx.Request),
            AdminBody.Required(body.Email,
                "email"), AdminBody.Role(body.Role), body.Password, RequestAuth.Client(ctx), ct);
        return Results.Json(Describe(member), GatewayJson.Options, statusCode: 201);
    }

    private static async Task<IResult> SetRole(string email, HttpContext ctx, IOrgDirectory orgs, CancellationToken ct)
    {
        var body = await AdminBody.ReadAsync<MemberBody>(ctx.Request, ct);
        var member = await orgs.SetRoleAsync(RequestAuth.Principal(ctx), OrgHeader.Current(ctx.Request), email,
            AdminBody.Role(body.Role), RequestAuth.Client(ctx), ct);
        return Results.Json(Describe(member), GatewayJson.Options);
    }

    private static async Task<IResult> RemoveMember(string email, HttpContext ctx, IOrgDirectory orgs,
        CancellationToken ct)
    {
        await orgs.RemoveMemberAsync(RequestAuth.Principal(ctx), OrgHeader.Current(ctx.Request), email,
            RequestAuth.Client(ctx), ct);
        return Results.Json(new { removed = email }, GatewayJson.Options);
    }

    private static object Describe(OrgInfo o) => new { org = o.Org, name = o.Name, created_at = o.CreatedAtMicros };

    private static object Describe(MemberInfo m) => new { email = m.Email, role = OrgRoles.Name(m.Role),
        is_root = m.IsRoot };
}
