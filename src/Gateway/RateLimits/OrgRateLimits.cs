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
/// Token buckets per (org, route class), refilled continuously at the configured QPS: a burst of one second's
/// worth passes, more is 429 with Retry-After. In-process and per replica, as the spec describes. One
/// partitioned limiter holds every bucket: it replenishes them all from a single timer and drops a bucket idle
/// for a few seconds, so any number of orgs costs no timers and memory only while they send. A changed limit
/// (config reload) starts fresh buckets.
/// </summary>
public sealed class OrgRateLimits(RateLimitSource source) : IDisposable
{
    private readonly PartitionedRateLimiter<(string Org, RouteClass Class, int Qps)> _buckets =
        PartitionedRateLimiter.Create<(string Org, RouteClass Class, int Qps), (string, RouteClass, int)>(key =>
            RateLimitPartition.GetTokenBucketLimiter(key, k => new TokenBucketRateLimiterOptions
            {
                TokenLimit = k.Item3,
                TokensPerPeriod = k.Item3,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            }));

    /// <summary>Null when the request may proceed, else the seconds to wait.</summary>
    public int? TryAcquire(string org, RouteClass routeClass)
    {
        var qps = source.QpsOf(routeClass);
        if (qps <= 0) return null;
        using var lease = _buckets.AttemptAcquire((org, routeClass, qps));
        if (lease.IsAcquired) return null;
        return lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)) : 1;
    }

    public void Dispose() => _buckets.Dispose();
}

public static class RateLimitFilter
{
    /// <summary>429 + Retry-After past the org's limit for this route class.</summary>
    public static TBuilder RateLimited<TBuilder>(this TBuilder builder, RouteClass routeClass) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var org = OrgHeader.Current(http.Request);
            if (http.RequestServices.GetService(typeof(OrgRateLimits)) is OrgRateLimits limits
                && limits.TryAcquire(org, routeClass) is { } retryAfter)
            {
                http.Response.Headers.RetryAfter = retryAfter.ToString();
                return ApiError.Result(429, "rate_limited",
                    $"org '{org}' is over its {routeClass.ToString().ToLowerInvariant()} rate limit (router.rate_limit); retry after {retryAfter}s");
            }
            return await next(context);
        });
}
