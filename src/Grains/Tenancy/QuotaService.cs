using System.Collections.Concurrent;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Grains.Metadata;
using Prometheus;

namespace MoleSignal.Grains.Tenancy;

/// <summary>The <c>[quotas]</c> defaults in force; 0 = unlimited.</summary>
public sealed record QuotaDefaults(long IngestBytesPerDay, long MaxStreams, long StoredBytes, long MaxConcurrentQueries)
{
    public long Of(Quota q) => q switch
    {
        Quota.IngestBytesPerDay => IngestBytesPerDay,
        Quota.MaxStreams => MaxStreams,
        Quota.StoredBytes => StoredBytes,
        _ => MaxConcurrentQueries,
    };
}

/// <summary>
/// Per-org quotas: the <c>[quotas]</c> defaults, overridden per org in <c>org_quotas</c>. Ingest bytes count in
/// memory and go to <c>org_usage</c> (per UTC day) every couple of seconds and at shutdown, so usage survives a
/// restart and sums over the nodes; the other usages are read from the metadata (streams, data files) or
/// counted here (running queries, per node). A request is checked before anything of it is written; requests
/// checked at the same moment may together pass a quota by what they carry.
/// </summary>
public sealed class QuotaService(MetaStore store, LiveSettings<QuotaDefaults> defaults, IAuditLog audit,
    TimeProvider clock)
    : IQuotaService
{
    private static readonly TimeSpan OverridesTtl = TimeSpan.FromSeconds(10), StreamsTtl = TimeSpan.FromSeconds(10),
        StoredTtl = TimeSpan.FromSeconds(30), UsageTtl = TimeSpan.FromSeconds(5);

    private static readonly Gauge Usage = Metrics.CreateGauge("org_quota_usage", "Usage of each org quota.", "org",
        "quota");

    private sealed class OrgState
    {
        public Dictionary<Quota, long> Overrides = new();
        public DateTimeOffset OverridesAt = DateTimeOffset.MinValue;
        public int Day;
        public long IngestPersisted, IngestPending;
        public DateTimeOffset IngestAt = DateTimeOffset.MinValue;
        public HashSet<string> Streams = new(StringComparer.Ordinal);
        public DateTimeOffset StreamsAt = DateTimeOffset.MinValue;
        public long Stored;
        public DateTimeOffset StoredAt = DateTimeOffset.MinValue;
        public int Queries;
    }

    private readonly ConcurrentDictionary<string, OrgState> _orgs = new(StringComparer.Ordinal);

    private OrgState StateOf(string org)
    {
        if (_orgs.TryGetValue(org, out var s)) return s;
        if (_orgs.Count >= OrgDirectory.MaxOrgs)
            foreach (var (k, v) in _orgs)
                if (Volatile.Read(ref v.IngestPending) == 0 && Volatile.Read(ref v.Queries) == 0) _orgs.TryRemove(k,
                    out _);
        return _orgs.GetOrAdd(org, _ => new OrgState { Day = Today });
    }

    private int Today => (int)(clock.GetUtcNow().ToUnixTimeSeconds() / 86_400);

    private DateTimeOffset Now => clock.GetUtcNow();

    private async ValueTask<long> LimitAsync(string org, OrgState s, Quota q, CancellationToken ct)
    {
        if (Now - s.OverridesAt > OverridesTtl)
        {
            var rows = await store.ReadAsync("SELECT quota, value FROM org_quotas WHERE org = @o",
                r => (Name: r.GetString(0), Value: Convert.ToInt64(r.GetValue(1))), ct, ("o", org));
            var fresh = new Dictionary<Quota, long>();
            foreach (var (name, value) in rows)
                if (Quotas.TryParse(name, out var quota)) fresh[quota] = value;
            s.Overrides = fresh;
            s.OverridesAt = Now;
        }
        return s.Overrides.TryGetValue(q, out var v) ? v : defaults.Current.Of(q);
    }

    public async Task<IReadOnlyList<QuotaState>> GetAsync(string org, CancellationToken ct)
    {
        var s = StateOf(org);
        s.OverridesAt = DateTimeOffset.MinValue;
        var list = new List<QuotaState>();
        foreach (var q in Quotas.All)
        {
            var limit = await LimitAsync(org, s, q, ct);
            var usage = q switch
            {
                Quota.IngestBytesPerDay => await IngestUsageAsync(org, s, ct, force: true),
                Quota.MaxStreams => (await StreamsAsync(org, s, ct, force: true)).Count,
                Quota.StoredBytes => await StoredAsync(org, s, ct, force: true),
                _ => Volatile.Read(ref s.Queries),
            };
            Usage.WithLabels(org, Quotas.Name(q)).Set(usage);
            list.Add(new QuotaState(q, limit, s.Overrides.ContainsKey(q), usage));
        }
        return list;
    }

    public async Task SetAsync(Principal actor, string org, IReadOnlyDictionary<Quota, long?> values, string client,
        CancellationToken ct)
    {
        await using (var conn = await store.OpenAsync(ct))
        await using (var tx = await conn.BeginTransactionAsync(ct))
        {
            foreach (var (q, v) in values)
            {
                if (v is < 0) throw new AuthException(AuthErrorKind.Invalid,
                    $"{Quotas.Name(q)} is 0 (unlimited) or more");
                await using var cmd = v is { } value
                    ? MetaStore.Command(conn, """
                        INSERT INTO org_quotas (org, quota, value) VALUES (@o, @q, @v)
                        ON CONFLICT (org, quota) DO UPDATE SET value = excluded.value
                        """, ("o", org), ("q", Quotas.Name(q)), ("v", value))
                    : MetaStore.Command(conn, "DELETE FROM org_quotas WHERE org = @o AND quota = @q", ("o", org),
                        ("q", Quotas.Name(q)));
                cmd.Transaction = tx;
                await cmd.ExecuteNonQueryAsync(ct);
            }
            await tx.CommitAsync(ct);
        }
        StateOf(org).OverridesAt = DateTimeOffset.MinValue;
        audit.Record(actor.Actor, org, "quota_update", string.Join(',', values.Keys.Select(Quotas.Name)), client, "ok");
    }

    public async ValueTask<QuotaRefusal?> CheckIngestAsync(string org, string streamType, string stream, long bytes,
        CancellationToken ct)
    {
        var d = defaults.Current;
        var s = StateOf(org);
        if (d.IngestBytesPerDay == 0 && d.MaxStreams == 0 && d.StoredBytes == 0 && s.Overrides.Count == 0
            && Now - s.OverridesAt <= OverridesTtl)
            return null;

        var perDay = await LimitAsync(org, s, Quota.IngestBytesPerDay, ct);
        if (perDay > 0)
        {
            var used = await IngestUsageAsync(org, s, ct, force: false);
            if (used + bytes > perDay) return new QuotaRefusal(Quota.IngestBytesPerDay, perDay, used);
        }
        var maxStreams = await LimitAsync(org, s, Quota.MaxStreams, ct);
        if (maxStreams > 0)
        {
            var id = streamType + "/" + stream;
            var known = await StreamsAsync(org, s, ct, force: false);
            if (!known.Contains(id))
            {
                known = await StreamsAsync(org, s, ct, force: true); // another node may have made it
                if (!known.Contains(id))
                {
                    if (known.Count >= maxStreams) return new QuotaRefusal(Quota.MaxStreams, maxStreams, known.Count);
                    lock (s) s.Streams = new HashSet<string>(known, StringComparer.Ordinal) { id };
                }
            }
        }
        var stored = await LimitAsync(org, s, Quota.StoredBytes, ct);
        if (stored > 0)
        {
            var used = await StoredAsync(org, s, ct, force: false);
            if (used >= stored) return new QuotaRefusal(Quota.StoredBytes, stored, used);
        }
        return null;
    }

    public void RecordIngest(string org, long bytes)
    {
        var s = StateOf(org);
        RollDay(s);
        Interlocked.Add(ref s.IngestPending, bytes);
    }

    public async ValueTask<(IDisposable? Slot, QuotaRefusal? Refusal)> EnterQueryAsync(string org, CancellationToken ct)
    {
        var s = StateOf(org);
        var limit = await LimitAsync(org, s, Quota.MaxConcurrentQueries, ct);
        var running = Interlocked.Increment(ref s.Queries);
        if (limit > 0 && running > limit)
        {
            Interlocked.Decrement(ref s.Queries);
            return (null, new QuotaRefusal(Quota.MaxConcurrentQueries, limit, running - 1));
        }
        return (new QuerySlot(s), null);
    }

    private sealed class QuerySlot(OrgState s) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) Interlocked.Decrement(ref s.Queries);
        }
    }

    private void RollDay(OrgState s)
    {
        var today = Today;
        if (s.Day == today) return;
        lock (s)
        {
            if (s.Day == today) return;
            s.Day = today;
            s.IngestPersisted = 0;
            s.IngestAt = DateTimeOffset.MinValue;
        }
    }

    private async ValueTask<long> IngestUsageAsync(string org, OrgState s, CancellationToken ct, bool force)
    {
        RollDay(s);
        if (force || Now - s.IngestAt > UsageTtl) await ReadIngestAsync(org, s, ct);
        return Volatile.Read(ref s.IngestPersisted) + Volatile.Read(ref s.IngestPending);
    }

    private readonly SemaphoreSlim _usageLock = new(1, 1);

    private async Task ReadIngestAsync(string org, OrgState s, CancellationToken ct)
    {
        await _usageLock.WaitAsync(ct);
        try
        {
            var day = s.Day;
            var v = await store.ScalarAsync("SELECT ingest_bytes FROM org_usage WHERE org = @o AND day = @d", ct,
                ("o", org), ("d", day));
            if (s.Day == day) Volatile.Write(ref s.IngestPersisted, v is null ? 0 : Convert.ToInt64(v));
            s.IngestAt = Now;
        }
        finally
        {
            _usageLock.Release();
        }
    }

    private async ValueTask<HashSet<string>> StreamsAsync(string org, OrgState s, CancellationToken ct, bool force)
    {
        if (!force && Now - s.StreamsAt <= StreamsTtl) return s.Streams;
        var set = (await store.ReadAsync("SELECT stream_type, stream FROM streams WHERE org = @o",
            r => r.GetString(0) + "/" + r.GetString(1), ct, ("o", org))).ToHashSet(StringComparer.Ordinal);
        s.Streams = set;
        s.StreamsAt = Now;
        return set;
    }

    private async ValueTask<long> StoredAsync(string org, OrgState s, CancellationToken ct, bool force)
    {
        if (!force && Now - s.StoredAt <= StoredTtl) return s.Stored;
        var v = await store.ScalarAsync("SELECT COALESCE(SUM(compressed_bytes + index_bytes), 0) FROM file_meta WHERE org = @o",
            ct, ("o", org));
        s.Stored = v is null ? 0 : Convert.ToInt64(v);
        s.StoredAt = Now;
        return s.Stored;
    }

    /// <summary>Adds the bytes counted here since the last call to <c>org_usage</c>.</summary>
    public async Task FlushUsageAsync(CancellationToken ct)
    {
        foreach (var (org, s) in _orgs)
        {
            var pending = Volatile.Read(ref s.IngestPending);
            if (pending == 0) continue;
            var day = s.Day;
            await _usageLock.WaitAsync(ct);
            try
            {
                await store.ExecuteAsync("""
                    INSERT INTO org_usage (org, day, ingest_bytes) VALUES (@o, @d, @b)
                    ON CONFLICT (org, day) DO UPDATE SET ingest_bytes = org_usage.ingest_bytes + excluded.ingest_bytes
                    """, ct, ("o", org), ("d", day), ("b", pending));
                // The bytes move from pending to persisted in this order, so a check in between counts them once or
                // twice, never zero times.
                if (s.Day == day) Interlocked.Add(ref s.IngestPersisted, pending);
                Interlocked.Add(ref s.IngestPending, -pending);
            }
            finally
            {
                _usageLock.Release();
            }
            Usage.WithLabels(org,
                Quotas.Name(Quota.IngestBytesPerDay)).Set(Volatile.Read(ref s.IngestPersisted)
                    + Volatile.Read(ref s.IngestPending));
        }
    }
}
