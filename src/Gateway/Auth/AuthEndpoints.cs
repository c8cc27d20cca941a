using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using MoleSignal.Grains.Abstractions.Auth;

namespace MoleSignal.Gateway.Auth;

/// <summary><c>/api/v1/auth</c>: login (email + password → JWT), refresh (a valid JWT → a new one), the caller's
/// own view, password change.</summary>
public static class AuthEndpoints
{
    private sealed record LoginBody(string? Email, string? Password);

    private sealed record PasswordBody(string? CurrentPassword, string? NewPassword);

    public static IEndpointRouteBuilder MapAuth(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/auth/login", Login).AllowsAnonymous();
        app.MapPost("/api/v1/auth/refresh", Refresh).RequiresPrincipal();
        app.MapGet("/api/v1/auth/me", Me).RequiresPrincipal();
        app.MapPost("/api/v1/auth/password", ChangePassword).RequiresPrincipal();
        return app;
    }

    private static async Task<IResult> Login(HttpContext ctx, IAccountService accounts, CancellationToken ct)
    {
        var body = await AdminBody.ReadAsync<LoginBody>(ctx.Request, ct);
        var token = await accounts.LoginAsync(AdminBody.Required(body.Email, "email"),
            AdminBody.Required(body.Password, "password"),
            RequestAuth.Client(ctx), ct);
        return Issued(token);
    }

    private static async Task<IResult> Refresh(HttpContext ctx, IAccountService accounts, CancellationToken ct) =>
        Issued(await accounts.RefreshAsync(RequestAuth.Principal(ctx), ct));

    private static IResult Issued(LoginToken token) =>
        Results.Json(new { token = token.Token, expires_at = token.ExpiresAt.ToUnixTimeMilliseconds() * 1000 },
            GatewayJson.Options);

    private static async Task<IResult> Me(HttpContext ctx, IAccountService accounts, CancellationToken ct)
    {
        var me = await accounts.MeAsync(RequestAuth.Principal(ctx), ct);
        return Results.Json(new
        {
            user_id = me.UserId,
            email = me.Email,
            is_root = me.IsRoot,
            credential = me.Kind.ToString().ToLowerInvariant(),
            orgs = me.Orgs.Select(m => new { org = m.Org, role = OrgRoles.Name(m.Role) }),
        }, GatewayJson.Options);
    }

    private static async Task<IResult> ChangePassword(HttpContext ctx, IAccountService accounts, CancellationToken ct)
    {
        var body = await AdminBody.ReadAsync<PasswordBody>(ctx.Request, ct);
        await accounts.ChangePasswordAsync(RequestAuth.Principal(ctx),
            AdminBody.Required(body.CurrentPassword, "current_password"),
            AdminBody.Required(body.NewPassword, "new_password"), RequestAuth.Client(ctx), ct);
        return Results.Json(new { changed = true }, GatewayJson.Options);
    }
}
