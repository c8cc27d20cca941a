using System.Text;
using System.Threading.Channels;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Grains.Metadata;
using Prometheus;

namespace MoleSignal.Grains.Audit;

/// <summary>
/// <c>audit_log</c>: rows are queued by the request (never waiting on the database) and written in batches by
/// <see cref="WriteAsync"/>. The queue is bounded: a flood of refused credentials cannot grow memory; what
/// does not fit is counted in <c>audit_dropped_total</c>. Rows are only ever inserted and, past the retention,
/// deleted.
/// </summary>
public sealed class AuditLog(MetaStore store, TimeProvider clock) : IAuditLog
{
    public const int QueueCapacity = 10_000, BatchSize = 500, MaxQueryRows = 1000;

    private static readonly Counter Dropped = Metrics.CreateCounter("audit_dropped_total",
        "Audit rows dropped because the write queue was full.");

    private readonly Channel<AuditEntry> _queue = Channel.CreateBounded<AuditEntry>(
        new BoundedChannelOptions(QueueCapacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true },
        _ => Dropped.Inc());

    public void Record(string actor, string? org, string action, string? target, string? client, string result) =>
        _queue.Writer.TryWrite(new AuditEntry(clock.GetUtcNow().ToUnixTimeMilliseconds() * 1000, Cap(actor, 320)!,
            org, action, Cap(target, 512), Cap(client, 64), result));

    /// <summary>Writes queued rows until cancelled, then what is still queued.</summary>
    public async Task WriteAsync(CancellationToken stopping)
    {
        var batch = new List<AuditEntry>(BatchSize);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stopping))
            {
                while (batch.Count < BatchSize && _queue.Reader.TryRead(out var e)) batch.Add(e);
                await InsertAsync(batch, stopping);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            while (_queue.Reader.TryRead(out var e)) batch.Add(e);
            if (batch.Count > 0) await InsertAsync(batch, CancellationToken.None);
        }
    }

    private async Task InsertAsync(List<AuditEntry> rows, CancellationToken ct)
    {
        await using var conn = await store.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        foreach (var r in rows)
        {
            await using var cmd = MetaStore.Command(conn, """
                INSERT INTO audit_log (at_micros, actor, org, action, target, client, result)
                VALUES (@t, @a, @o, @x, @g, @c, @r)
                """, ("t", r.AtMicros), ("a", r.Actor), ("o", r.Org), ("x", r.Action), ("g", r.Target), ("c", r.Client),
                ("r", r.Result));
            cmd.Transaction = tx;
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
    }

    public async Task<IReadOnlyList<AuditEntry>> QueryAsync(AuditFilter f, CancellationToken ct)
    {
        var sql = new StringBuilder("SELECT at_micros, actor, org, action, target, client, result FROM audit_log WHERE 1 = 1");
        var args = new List<(string, object?)>();
        void Where(string clause, string name, object? value)
        {
            if (value is null) return;
            sql.Append(" AND ").Append(clause);
            args.Add((name, value));
        }
        Where("at_micros >= @from", "from", f.FromMicros);
        Where("at_micros < @to", "to", f.ToMicros);
        Where("actor = @actor", "actor", f.Actor);
        Where("action = @action", "action", f.Action);
        Where("org = @org", "org", f.Org);
        sql.Append(" ORDER BY at_micros DESC LIMIT ").Append(Math.Clamp(f.Limit, 1, MaxQueryRows));
        return await store.ReadAsync(sql.ToString(), r => new AuditEntry(Convert.ToInt64(r.GetValue(0)), r.GetString(1),
            r.IsDBNull(2) ? null : r.GetString(2), r.GetString(3), r.IsDBNull(4) ? null : r.GetString(4),
            r.IsDBNull(5) ? null : r.GetString(5), r.GetString(6)), ct, args.ToArray());
    }

    /// <summary>Deletes rows older than <paramref name="days"/> days; returns how many.</summary>
    public Task<int> ExpireAsync(int days, CancellationToken ct) =>
        store.ExecuteAsync("DELETE FROM audit_log WHERE at_micros < @cut", ct,
            ("cut", (clock.GetUtcNow() - TimeSpan.FromDays(days)).ToUnixTimeMilliseconds() * 1000));

    private static string? Cap(string? s, int max) => s is null || s.Length <= max ? s : s[..max];
}
