using MoleSignal.Gateway.Ingest;

namespace MoleSignal.Gateway;

/// <summary>
/// The org a request acts in: <c>X-Org-Id</c> (default <c>default</c>, validated like stream names) or the route's
/// <c>{org}</c>; the auth gate checks the principal may act there and leaves it in <see cref="Current"/>.
/// </summary>
public static class OrgHeader
{
    private const string ItemKey = "molesignal.org";

    public const string InvalidMessage = "the org must match ^[a-z0-9][a-z0-9_-]{0,127}$";

    /// <summary>The lowercased org of the header, or null when it is not a valid org name.</summary>
    public static string? Of(HttpRequest request) =>
        NameRules.Normalize(request.Headers.TryGetValue("X-Org-Id", out var v) && v.Count > 0 && !string.IsNullOrEmpty(v[0]) ? v[0] : "default");

    /// <summary>The org the auth gate checked for this request.</summary>
    public static string Current(HttpRequest request) =>
        request.HttpContext.Items[ItemKey] as string ?? throw new InvalidOperationException("the route passed no auth gate");

    public static void Set(HttpContext ctx, string org) => ctx.Items[ItemKey] = org;
}
