using Microsoft.AspNetCore.Builder;
using MoleSignal.Grains.Abstractions.Auth;

namespace MoleSignal.Gateway.Errors;

/// <summary>Auth and tenancy errors of the engine as HTTP answers: the one mapping of <see
/// cref="AuthErrorKind"/>.</summary>
public static class AuthErrors
{
    public static (int Status, string Code) Of(AuthErrorKind kind) => kind switch
    {
        AuthErrorKind.Invalid => (400, "invalid_request"),
        AuthErrorKind.Unauthorized => (401, "unauthorized"),
        AuthErrorKind.Forbidden => (403, "forbidden"),
        AuthErrorKind.NotFound => (404, "not_found"),
        AuthErrorKind.Conflict => (409, "conflict"),
        AuthErrorKind.Throttled => (429, "too_many_failed_logins"),
        _ => (409, "limit_reached"),
    };

    public static IResult Result(HttpContext ctx, AuthException e)
    {
        var (status, code) = Of(e.Kind);
        if (e.Kind == AuthErrorKind.Throttled) ctx.Response.Headers.RetryAfter = e.RetryAfterSecs.ToString();
        if (e.Kind == AuthErrorKind.Unauthorized) ctx.Response.Headers.WWWAuthenticate = Auth.RequestAuth.Challenge;
        return ApiError.Result(status, code, e.Message);
    }

    /// <summary>A group filter: an <see cref="AuthException"/> from any handler becomes its answer.</summary>
    public static TBuilder MapsAuthErrors<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (ctx, next) =>
        {
            try
            {
                return await next(ctx);
            }
            catch (AuthException e)
            {
                return Result(ctx.HttpContext, e);
            }
        });

    public static IResult QuotaExceeded(QuotaRefusal r) => ApiError.Result(429, "quota_exceeded",
        $"quota {Quotas.Name(r.Quota)} of this org is {r.Limit} and {r.Usage} is used; nothing of this request was written");
}
