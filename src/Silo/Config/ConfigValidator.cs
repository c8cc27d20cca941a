namespace MoleSignal.Silo.Config;

/// <summary>Value rules the types alone cannot say; each failure names its key.</summary>
public static class ConfigValidator
{
    public static readonly string[] Roles = ["standalone", "router", "ingester", "querier", "compactor", "alert_manager"];

    public static void Validate(MoleSignalConfig c)
    {
        if (c.Node.Roles.Length == 0) Fail("node.roles", "must list at least one role");
        foreach (var r in c.Node.Roles)
            OneOf("node.roles", r, Roles);
        if (c.Node.Id.Length > 64) Fail("node.id", "must be at most 64 characters");
        OneOf("store.meta.backend", c.Store.Meta.Backend, "sqlite", "postgres");
        OneOf("store.object.backend", c.Store.Object.Backend, "local", "s3", "azure", "gcs");
        OneOf("store.object.s3.checksum_mode", c.Store.Object.S3.ChecksumMode, "when_supported", "when_required");
        OneOf("wal.flush_strategy", c.Wal.FlushStrategy, "batch", "none", "every_write");
        OneOf("wal.sync_level", c.Wal.SyncLevel, "data", "all");
        Port("http.port", c.Http.Port);
        Port("grpc.port", c.Grpc.Port);
        Port("cluster.silo_port", c.Cluster.SiloPort);
        Port("cluster.gateway_port", c.Cluster.GatewayPort);
        if (c.Http.Port == c.Grpc.Port) Fail("grpc.port", $"must differ from http.port ({c.Http.Port})");
        Positive("store.meta.max_connections", c.Store.Meta.MaxConnections);
        Positive("store.object.health_probe_interval_secs", c.Store.Object.HealthProbeIntervalSecs);
        Positive("cluster.heartbeat_interval_secs", c.Cluster.HeartbeatIntervalSecs);
        Positive("cluster.peer_timeout_secs", c.Cluster.PeerTimeoutSecs);
        Positive("cluster.sweep_after_secs", c.Cluster.SweepAfterSecs);
        Positive("cluster.sweep_interval_secs", c.Cluster.SweepIntervalSecs);
        Positive("http.max_body_mb", c.Http.MaxBodyMb);
        Positive("grpc.max_message_size_mb", c.Grpc.MaxMessageSizeMb);
        // A message is read into one array: its length is an int.
        if (c.Grpc.MaxMessageSizeMb > 2047) Fail("grpc.max_message_size_mb", "must be at most 2047");
        Positive("wal.segment_size_mb", c.Wal.SegmentSizeMb);
        Positive("ingester.buffer_max_mb", c.Ingester.BufferMaxMb);
        Positive("ingester.flush_interval_secs", c.Ingester.FlushIntervalSecs);
        Positive("ingester.flush_parallelism", c.Ingester.FlushParallelism);
        Positive("ingester.max_columns", c.Ingester.MaxColumns);
        Positive("ingester.flush_threshold_mb", c.Ingester.FlushThresholdMb);
        Positive("ingester.max_record_kb", c.Ingester.MaxRecordKb);
        Positive("ingester.flatten_level", c.Ingester.FlattenLevel);
        Positive("ingester.max_nesting_depth", c.Ingester.MaxNestingDepth);
        Positive("ingester.max_request_fields", c.Ingester.MaxRequestFields);
        Positive("ingester.max_stream_fields", c.Ingester.MaxStreamFields);
        NotNegative("ingester.allowed_past_hours", c.Ingester.AllowedPastHours);
        NotNegative("ingester.allowed_future_hours", c.Ingester.AllowedFutureHours);
        Positive("ingester.max_flush_attempts", c.Ingester.MaxFlushAttempts);
        Positive("ingester.idempotency_window_secs", c.Ingester.IdempotencyWindowSecs);
        if (c.Syslog.TcpPort != 0) Port("syslog.tcp_port", c.Syslog.TcpPort);
        if (c.Syslog.UdpPort != 0) Port("syslog.udp_port", c.Syslog.UdpPort);
        if (!System.Net.IPAddress.TryParse(c.Syslog.Bind, out _))
            Fail("syslog.bind", $"'{c.Syslog.Bind}' is not an IP address");
        if (Gateway.Ingest.NameRules.Normalize(c.Syslog.Org) != c.Syslog.Org)
            Fail("syslog.org", "is not a valid org name");
        if (Gateway.Ingest.NameRules.Normalize(c.Syslog.Stream) != c.Syslog.Stream)
            Fail("syslog.stream", "is not a valid stream name");
        Positive("syslog.max_message_kb", c.Syslog.MaxMessageKb);
        Positive("federation.remote_timeout_secs", c.Federation.RemoteTimeoutSecs);
        try
        {
            Grains.Federation.License.Keys(c.License.TrustedPublicKeys);
        }
        catch (ArgumentException e)
        {
            Fail("license.trusted_public_keys", e.Message);
        }
        Positive("compactor.interval_secs", c.Compactor.IntervalSecs);
        NotNegative("compactor.retention_days", c.Compactor.RetentionDays);
        Positive("compactor.target_file_mb", c.Compactor.TargetFileMb);
        NotNegative("compactor.delete_delay_secs", c.Compactor.DeleteDelaySecs);
        Positive("compactor.lease_secs", c.Compactor.LeaseSecs);
        Positive("storage.file_meta_dump.interval_secs", c.Storage.FileMetaDump.IntervalSecs);
        NotNegative("storage.file_meta_dump.cold_after_days", c.Storage.FileMetaDump.ColdAfterDays);
        NotNegative("router.rate_limit.ingest_qps", c.Router.RateLimit.IngestQps);
        NotNegative("router.rate_limit.query_qps", c.Router.RateLimit.QueryQps);
        Positive("querier.timeout_secs", c.Querier.TimeoutSecs);
        Positive("querier.max_concurrent", c.Querier.MaxConcurrent);
        Positive("querier.memory_limit_mb", c.Querier.MemoryLimitMb);
        NotNegative("querier.default_limit", c.Querier.DefaultLimit);
        Positive("querier.cache_max_mb", c.Querier.CacheMaxMb);
        Positive("querier.max_result_mb", c.Querier.MaxResultMb);
        Positive("querier.max_sql_kb", c.Querier.MaxSqlKb);
        Positive("search_jobs.workers", c.SearchJobs.Workers);
        Positive("search_jobs.idle_poll_secs", c.SearchJobs.IdlePollSecs);
        Positive("search_jobs.cleanup_interval_secs", c.SearchJobs.CleanupIntervalSecs);
        Positive("search_jobs.lease_secs", c.SearchJobs.LeaseSecs);
        Positive("search_jobs.max_attempts", c.SearchJobs.MaxAttempts);
        Positive("search_jobs.retention_secs", c.SearchJobs.RetentionSecs);
        Positive("compactor.interval_secs", c.Compactor.IntervalSecs);
        NotNegative("compactor.retention_days", c.Compactor.RetentionDays);
        Positive("storage.file_meta_dump.interval_secs", c.Storage.FileMetaDump.IntervalSecs);
        Positive("alert_manager.eval_interval_secs", c.AlertManager.EvalIntervalSecs);
        Positive("alert_manager.dispatch_interval_secs", c.AlertManager.DispatchIntervalSecs);
        Positive("alert_manager.lease_secs", c.AlertManager.LeaseSecs);
        Positive("alert_manager.eval_timeout_secs", c.AlertManager.EvalTimeoutSecs);
        Positive("alert_manager.max_catch_up_windows", c.AlertManager.MaxCatchUpWindows);
        Positive("alert_manager.max_attempts", c.AlertManager.MaxAttempts);
        Positive("alert_manager.retry_base_secs", c.AlertManager.RetryBaseSecs);
        Positive("alert_manager.max_rules_per_org", c.AlertManager.MaxRulesPerOrg);
        Positive("alert_manager.max_destinations_per_org", c.AlertManager.MaxDestinationsPerOrg);
        Positive("reports.tick_secs", c.Reports.TickSecs);
        Positive("auth.jwt_ttl_secs", c.Auth.JwtTtlSecs);
        Positive("auth.token_cache_secs", c.Auth.TokenCacheSecs);
        Positive("auth.audit_retention_days", c.Auth.AuditRetentionDays);
        NotNegative("quotas.ingest_bytes_per_day", c.Quotas.IngestBytesPerDay);
        NotNegative("quotas.max_streams", c.Quotas.MaxStreams);
        NotNegative("quotas.stored_bytes", c.Quotas.StoredBytes);
        NotNegative("quotas.max_concurrent_queries", c.Quotas.MaxConcurrentQueries);
        if (!c.Auth.Enabled && !(IsLoopback(c.Http.Bind) && IsLoopback(c.Grpc.Bind)))
            Fail("auth.enabled", $"= false is only allowed when http.bind and grpc.bind are loopback addresses " +
                 $"(got {c.Http.Bind} and {c.Grpc.Bind})");
        if (c.Http.Tls.Enabled)
        {
            Port("http.tls.port", c.Http.Tls.Port);
            Port("http.tls.plain_port", c.Http.Tls.PlainPort);
            if (c.Http.Tls.CertFile == "" || c.Http.Tls.KeyFile == "")
                Fail("http.tls.cert_file", "and http.tls.key_file are required when http.tls.enabled = true");
            if (c.Http.Tls.Certs.Any(t => t.CertFile == "" || t.KeyFile == ""))
                Fail("http.tls.certs", "entries need both cert_file and key_file");
            if (new[] { c.Http.Tls.Port, c.Http.Tls.PlainPort, c.Grpc.Port }.Distinct().Count() < 3)
                Fail("http.tls.port", "http.tls.plain_port and grpc.port must all differ");
        }
        if (c.Cluster.TlsEnabled && (c.Cluster.TlsCertFile == "" || c.Cluster.TlsKeyFile == ""))
            Fail("cluster.tls_cert_file", "and cluster.tls_key_file are required when cluster.tls_enabled = true");
        if (c.Store.Meta.Backend == "postgres" && string.IsNullOrWhiteSpace(c.Store.Meta.Dsn))
            Fail("store.meta.dsn", "is required when store.meta.backend = \"postgres\"");
        if (c.Store.Object.Backend == "azure" && string.IsNullOrWhiteSpace(c.Store.Object.Azure.Container))
            Fail("store.object.azure.container", "is required when store.object.backend = \"azure\"");
        if (c.Store.Object.Backend == "gcs" && string.IsNullOrWhiteSpace(c.Store.Object.Gcs.Bucket))
            Fail("store.object.gcs.bucket", "is required when store.object.backend = \"gcs\"");
        if (c.Store.Object.Backend == "s3" && string.IsNullOrWhiteSpace(c.Store.Object.S3.Bucket))
            Fail("store.object.s3.bucket", "is required when store.object.backend = \"s3\"");
    }

    public static bool IsLoopback(string bind) =>
        bind == "localhost" || (System.Net.IPAddress.TryParse(bind, out var ip) && System.Net.IPAddress.IsLoopback(ip));

    private static void OneOf(string key, string value, params string[] allowed)
    {
        if (!allowed.Contains(value, StringComparer.Ordinal))
            Fail(key, $"'{value}' is not one of {string.Join(", ", allowed)}");
    }

    private static void Port(string key, int v)
    {
        if (v is < 1 or > 65535) Fail(key, $"{v} is not a port (1-65535)");
    }

    private static void Positive(string key, long v)
    {
        if (v <= 0) Fail(key, $"must be greater than 0 (got {v})");
    }

    private static void NotNegative(string key, long v)
    {
        if (v < 0) Fail(key, $"must not be negative (got {v})");
    }

    private static void Fail(string key, string why) => throw new ConfigException($"config key '{key}' {why}");
}
