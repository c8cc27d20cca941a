using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using MoleSignal.Gateway.Errors;

namespace MoleSignal.Gateway.RateLimits;

public enum RouteClass { Ingest, Query }

/// <summary>The limits in force now ([router.rate_limit], per org and route class, requests per second; 0 = unlimited).</summary>
public sealed class RateLimitSource(Func<(int IngestQps, int QueryQps)> current)
{
    public int QpsOf(RouteClass c) => c == RouteClass.Ingest ? current().IngestQps : current().QueryQps;
}

/// <summary>
/// Token buckets per (org, route class), refilled every second to the configured QPS: a burst of one second's
/// worth passes, more is 429 with Retry-After. In-process and per replica, as the spec describes. A changed
/// limit (config reload) starts fresh buckets.
/// </summary>
public sealed class OrgRateLimits(RateLimitSource source)
{
    private readonly ConcurrentDictionary<(string Org, RouteClass Class, int Qps), TokenBucketRateLimiter> _buckets = new();

    /// <summary>Null when the request may proceed, else the seconds to wait.</summary>
    public int? TryAcquire(string org, RouteClass routeClass)
    {
        var qps = source.QpsOf(routeClass);
        if (qps <= 0) return null;
        var bucket = _buckets.GetOrAdd((org, routeClass, qps), k => new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = k.Qps,
            TokensPerPeriod = k.Qps,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
        using var lease = bucket.AttemptAcquire();
        if (lease.IsAcquired) return null;
        return lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)) : 1;
    }
}

public static class RateLimitFilter
{
    /// <summary>429 + Retry-After past the org's limit for this route class.</summary>
    public static TBuilder RateLimited<TBuilder>(this TBuilder builder, RouteClass routeClass) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var org = OrgHeader.Of(http.Request);
            if (org is not null && http.RequestServices.GetService(typeof(OrgRateLimits)) is OrgRateLimits limits
                && limits.TryAcquire(org, routeClass) is { } retryAfter)
            {
                http.Response.Headers.RetryAfter = retryAfter.ToString();
                return ApiError.Result(429, "rate_limited",
                    $"org '{org}' is over its {routeClass.ToString().ToLowerInvariant()} rate limit (router.rate_limit); retry after {retryAfter}s");
            }
            return await next(context);
        });
}
