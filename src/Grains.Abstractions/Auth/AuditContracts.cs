namespace MoleSignal.Grains.Abstractions.Auth;

public sealed record AuditEntry(
    long AtMicros, string Actor, string? Org, string Action, string? Target, string? Client, string Result);

public sealed record AuditFilter(long? FromMicros, long? ToMicros, string? Actor, string? Action, string? Org,
    int Limit);

/// <summary>The append-only audit trail of changes, failed logins and refused credentials.</summary>
public interface IAuditLog
{
    /// <summary>Queued and written in the background; never blocks the request.</summary>
    void Record(string actor, string? org, string action, string? target, string? client, string result);

    Task<IReadOnlyList<AuditEntry>> QueryAsync(AuditFilter filter, CancellationToken ct);
}
