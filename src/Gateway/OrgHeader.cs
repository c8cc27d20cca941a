using MoleSignal.Gateway.Errors;
using MoleSignal.Gateway.Ingest;

namespace MoleSignal.Gateway;

/// <summary>The caller's org: <c>X-Org-Id</c>, default <c>default</c>, validated like stream names.</summary>
public static class OrgHeader
{
    public static readonly IResult Invalid = ApiError.Result(400, "invalid_org", "X-Org-Id must match ^[a-z0-9][a-z0-9_-]{0,127}$");

    /// <summary>The lowercased org, or null when the header is not a valid org name.</summary>
    public static string? Of(HttpRequest request) =>
        NameRules.Normalize(request.Headers.TryGetValue("X-Org-Id", out var v) && v.Count > 0 && !string.IsNullOrEmpty(v[0]) ? v[0] : "default");
}
