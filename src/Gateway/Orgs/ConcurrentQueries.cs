using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Builder;
using MoleSignal.Gateway.Errors;
using MoleSignal.Grains.Abstractions.Auth;

namespace MoleSignal.Gateway.Orgs;

/// <summary>The org's <c>max_concurrent_queries</c> quota around a query route: 429 <c>quota_exceeded</c> past
/// it.</summary>
public static class ConcurrentQueries
{
    public static TBuilder LimitsConcurrentQueries<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (ctx, next) =>
        {
            var http = ctx.HttpContext;
            var quotas = http.RequestServices.GetRequiredService<IQuotaService>();
            var (slot, refusal) = await quotas.EnterQueryAsync(OrgHeader.Current(http.Request), http.RequestAborted);
            if (refusal is not null) return AuthErrors.QuotaExceeded(refusal);
            // A streamed answer is written after the handler returns: the slot is held until the response ends.
            http.Response.RegisterForDispose(slot!);
            return await next(ctx);
        });
}
