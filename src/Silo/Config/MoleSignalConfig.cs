namespace MoleSignal.Silo.Config;

// The one model of every config key. Property names map to TOML keys in snake_case
// (MaxBodyMb -> max_body_mb); sections nest the same way ([store.meta] -> Store.Meta).
// Defaults are the operator documentation's. conf/config.toml documents each key.

public sealed class MoleSignalConfig
{
    public NodeSection Node { get; set; } = new();
    public ClusterSection Cluster { get; set; } = new();
    public HttpSection Http { get; set; } = new();
    public GrpcSection Grpc { get; set; } = new();
    public StoreSection Store { get; set; } = new();
    public WalSection Wal { get; set; } = new();
    public IngesterSection Ingester { get; set; } = new();
    public RouterSection Router { get; set; } = new();
    public QuerierSection Querier { get; set; } = new();
    public SearchJobsSection SearchJobs { get; set; } = new();
    public CompactorSection Compactor { get; set; } = new();
    public StorageSection Storage { get; set; } = new();
    public AlertManagerSection AlertManager { get; set; } = new();
    public ReportsSection Reports { get; set; } = new();
    public TelemetrySection Telemetry { get; set; } = new();
    public AuthSection Auth { get; set; } = new();
    public QuotasSection Quotas { get; set; } = new();
    public SyslogSection Syslog { get; set; } = new();
    public FederationSection Federation { get; set; } = new();
    public LicenseSection License { get; set; } = new();

    /// <summary>Flat secrets read straight from the environment, never from TOML.</summary>
    [NotAConfigKey]
    public Secrets Secrets { get; set; } = new();
}

public sealed class NodeSection
{
    /// <summary>Empty: generated once and kept in {data_dir}/node_id.</summary>
    [Immutable] public string Id { get; set; } = "";
    public string[] Roles { get; set; } = ["standalone"];
    /// <summary>Where node-local state lives (node_id file, default SQLite database).</summary>
    [Immutable] public string DataDir { get; set; } = "./data";
}

public sealed class ClusterSection
{
    [Immutable] public string AdvertiseAddr { get; set; } = "127.0.0.1:5082";
    public int HeartbeatIntervalSecs { get; set; } = 5;
    public int PeerTimeoutSecs { get; set; } = 15;
    [Immutable] public string ClusterId { get; set; } = "molesignal";
    /// <summary>The sweeper deletes cluster_nodes rows silent for longer than this (the spec's 5 minutes).</summary>
    public int SweepAfterSecs { get; set; } = 300;
    /// <summary>How often the sweeper runs (the spec's 60 s).</summary>
    public int SweepIntervalSecs { get; set; } = 60;
    [Immutable] public int SiloPort { get; set; } = 11111;
    [Immutable] public int GatewayPort { get; set; } = 30000;
    /// <summary>Silo-to-silo traffic over TLS with client certificates (mutual TLS); cluster mode only.</summary>
    [Immutable] public bool TlsEnabled { get; set; }
    /// <summary>This node's certificate and key (PEM); the certificate serves both ends of a connection.</summary>
    [Immutable] public string TlsCertFile { get; set; } = "";
    [Immutable] public string TlsKeyFile { get; set; } = "";
    /// <summary>The CA (PEM) a peer's certificate must chain to; empty = the system's trusted roots.</summary>
    [Immutable] public string TlsCaFile { get; set; } = "";
}

public sealed class HttpSection
{
    [Immutable] public string Bind { get; set; } = "0.0.0.0";
    [Immutable] public int Port { get; set; } = 5080;
    public int MaxBodyMb { get; set; } = 64;
    public HttpTlsSection Tls { get; set; } = new();
}

public sealed class HttpTlsSection
{
    /// <summary>HTTPS on <see cref="Port"/> and gRPC over TLS, from PEM files re-read when they change.</summary>
    [Immutable] public bool Enabled { get; set; }
    [Immutable] public int Port { get; set; } = 443;
    /// <summary>Plain HTTP: probes and ACME challenges answered, everything else redirected to HTTPS.</summary>
    [Immutable] public int PlainPort { get; set; } = 80;
    /// <summary>The default certificate (PEM chain) and its key.</summary>
    public string CertFile { get; set; } = "";
    public string KeyFile { get; set; } = "";
    /// <summary>More certificates, chosen by SNI from their DNS names.</summary>
    public TlsCertFiles[] Certs { get; set; } = [];
    /// <summary>Accepted for compatibility: ACME is not in this build.</summary>
    public int IssuePollSecs { get; set; } = 60;
    public int RenewalRetrySecs { get; set; } = 21600;
}

/// <summary>One <c>[[http.tls.certs]]</c> table.</summary>
public sealed record TlsCertFiles
{
    public string CertFile { get; init; } = "";
    public string KeyFile { get; init; } = "";
}

public sealed class GrpcSection
{
    [Immutable] public string Bind { get; set; } = "0.0.0.0";
    [Immutable] public int Port { get; set; } = 5082;
    [Immutable] public int MaxMessageSizeMb { get; set; } = 32;
}

public sealed class StoreSection
{
    public MetaStoreSection Meta { get; set; } = new();
    public ObjectStoreSection Object { get; set; } = new();
}

public sealed class MetaStoreSection
{
    /// <summary>sqlite | postgres</summary>
    [Immutable] public string Backend { get; set; } = "sqlite";
    /// <summary>Postgres URL or Npgsql keywords; for sqlite a file path (default {data_dir}/meta.db).</summary>
    [Immutable, Secret] public string Dsn { get; set; } = "";
    [Immutable] public int MaxConnections { get; set; } = 16;
}

public sealed class ObjectStoreSection
{
    /// <summary>local | s3 | azure | gcs.</summary>
    [Immutable] public string Backend { get; set; } = "local";
    [Immutable] public string Root { get; set; } = "./data/objects";
    public int HealthProbeIntervalSecs { get; set; } = 30;
    public S3Section S3 { get; set; } = new();
    public AzureSection Azure { get; set; } = new();
    public GcsSection Gcs { get; set; } = new();
}

/// <summary>Credentials: GOOGLE_APPLICATION_CREDENTIALS > credentials_file > credentials_json > application
/// default.</summary>
public sealed class GcsSection
{
    [Immutable] public string Bucket { get; set; } = "";
    /// <summary>Key prefix inside the bucket, e.g. "tenant-a/".</summary>
    [Immutable] public string Prefix { get; set; } = "";
    /// <summary>JSON API base URL for emulators, e.g. http://127.0.0.1:9199/storage/v1/.</summary>
    [Immutable] public string Endpoint { get; set; } = "";
    /// <summary>A service-account JSON key file (a mounted secret).</summary>
    [Immutable] public string CredentialsFile { get; set; } = "";
    [Immutable, Secret] public string CredentialsJson { get; set; } = "";
}

/// <summary>Credentials: AZURE_STORAGE_* env vars > credentials_file > inline keys.</summary>
public sealed class AzureSection
{
    [Immutable] public string Container { get; set; } = "";
    /// <summary>Key prefix inside the container, e.g. "tenant-a/".</summary>
    [Immutable] public string Prefix { get; set; } = "";
    /// <summary>Blob service URL override (azurite: http://127.0.0.1:10000/devstoreaccount1).</summary>
    [Immutable] public string Endpoint { get; set; } = "";
    [Immutable] public string AccountName { get; set; } = "";
    [Immutable, Secret] public string AccountKey { get; set; } = "";
    [Immutable, Secret] public string SasToken { get; set; } = "";
    [Immutable, Secret] public string ConnectionString { get; set; } = "";
    /// <summary>A file holding a connection string (a mounted secret).</summary>
    [Immutable] public string CredentialsFile { get; set; } = "";
}

public sealed class S3Section
{
    [Immutable] public string Bucket { get; set; } = "";
    [Immutable] public string Region { get; set; } = "us-east-1";
    /// <summary>Override for MinIO, R2, OSS ... e.g. http://127.0.0.1:9000</summary>
    [Immutable] public string Endpoint { get; set; } = "";
    [Immutable] public bool PathStyle { get; set; } = true;
    /// <summary>Key prefix inside the bucket.</summary>
    [Immutable] public string Prefix { get; set; } = "";
    /// <summary>when_supported | when_required: many S3-compatible stores mishandle checksum trailers.</summary>
    [Immutable] public string ChecksumMode { get; set; } = "when_required";
    /// <summary>Shared credentials file; empty = ~/.aws/credentials.</summary>
    [Immutable] public string CredentialsFile { get; set; } = "";
    [Immutable] public string Profile { get; set; } = "default";
    [Immutable, Secret] public string AccessKeyId { get; set; } = "";
    [Immutable, Secret] public string SecretAccessKey { get; set; } = "";
}

public sealed class WalSection
{
    [Immutable] public string Dir { get; set; } = "./data/wal";
    [Immutable] public int SegmentSizeMb { get; set; } = 64;
    /// <summary>batch | none | every_write</summary>
    [Immutable] public string FlushStrategy { get; set; } = "batch";
    /// <summary>data (fdatasync) | all (fsync)</summary>
    [Immutable] public string SyncLevel { get; set; } = "data";
}

public sealed class IngesterSection
{
    public int BufferMaxMb { get; set; } = 256;
    public int FlushIntervalSecs { get; set; } = 30;
    [Immutable] public int FlushParallelism { get; set; } = 4;
    /// <summary>A stream flushes once it buffers this much, without waiting for the interval.</summary>
    public int FlushThresholdMb { get; set; } = 64;
    public int MaxColumns { get; set; } = 1000;
    public int MaxRecordKb { get; set; } = 1024;
    /// <summary>Nested objects flatten up to this many key levels; deeper ones are kept as JSON text.</summary>
    public int FlattenLevel { get; set; } = 3;
    /// <summary>A record nested deeper than this is rejected.</summary>
    public int MaxNestingDepth { get; set; } = 32;
    /// <summary>Distinct field names in one request; a record that would add more is rejected.</summary>
    public int MaxRequestFields { get; set; } = 10_000;
    /// <summary>Fields a stream's schema may hold; a record that would add more is rejected.</summary>
    public int MaxStreamFields { get; set; } = 2000;
    /// <summary>A record whose _timestamp is older than this many hours is rejected; 0 = no limit.</summary>
    public int AllowedPastHours { get; set; } = 120;
    /// <summary>A record whose _timestamp is further ahead than this many hours is rejected; 0 = no limit.</summary>
    public int AllowedFutureHours { get; set; } = 24;
    /// <summary>Encoding failures of a flush run in a row before its bad entries are quarantined.</summary>
    public int MaxFlushAttempts { get; set; } = 5;
    /// <summary>A retry with the Idempotency-Key of a request acknowledged this many seconds ago or less gets
    /// that request's answer and writes nothing.</summary>
    public int IdempotencyWindowSecs { get; set; } = 600;
    /// <summary>Fields indexed for match_all(); a trailing '*' matches a prefix.</summary>
    public string[] FullTextFields { get; set; } = ["log", "message", "msg", "content", "data", "body", "error_*"];
    /// <summary>High-cardinality id fields with a per-file bloom filter.</summary>
    public string[] IdFields { get; set; } = ["trace_id", "span_id", "request_id"];
}

public sealed class RouterSection
{
    public RateLimitSection RateLimit { get; set; } = new();
}

public sealed class RateLimitSection
{
    /// <summary>Per org and route class; 0 = unlimited.</summary>
    public int IngestQps { get; set; } = 1000;
    public int QueryQps { get; set; } = 100;
}

public sealed class QuerierSection
{
    public long AutoAsyncThresholdRows { get; set; } = 50_000_000;
    public int TimeoutSecs { get; set; } = 300;
    public int MaxConcurrent { get; set; } = 8;
    public int MemoryLimitMb { get; set; } = 4096;
    /// <summary>Rows /api/v1/query returns when the request sets no limit; 0 = no limit.</summary>
    public long DefaultLimit { get; set; } = 10_000;
    /// <summary>Bound of the local cache of remote data files.</summary>
    public int CacheMaxMb { get; set; } = 2048;
    /// <summary>A /api/v1/query answer larger than this is 413 (the stream endpoint and async jobs have no
    /// bound).</summary>
    public int MaxResultMb { get; set; } = 256;
    /// <summary>Longest accepted SQL text.</summary>
    public int MaxSqlKb { get; set; } = 256;
}

public sealed class SearchJobsSection
{
    [Immutable] public int Workers { get; set; } = 2;
    [Immutable] public int IdlePollSecs { get; set; } = 2;
    [Immutable] public int CleanupIntervalSecs { get; set; } = 3600;
    /// <summary>A running job's claim lapses this long after its worker's last renewal (its process died).</summary>
    [Immutable] public int LeaseSecs { get; set; } = 60;
    /// <summary>Claims of a job before it fails for good.</summary>
    [Immutable] public int MaxAttempts { get; set; } = 3;
    /// <summary>How long a job and its result are kept (7 days).</summary>
    [Immutable] public int RetentionSecs { get; set; } = 604_800;
}

public sealed class CompactorSection
{
    public int IntervalSecs { get; set; } = 300;
    /// <summary>0 keeps data forever; a stream's own retention_days wins.</summary>
    public int RetentionDays { get; set; } = 0;
    /// <summary>Files below this size merge into files of about this size.</summary>
    public int TargetFileMb { get; set; } = 256;
    /// <summary>Replaced and expired objects are deleted this long after (longer than
    /// [querier].timeout_secs).</summary>
    public int DeleteDelaySecs { get; set; } = 900;
    /// <summary>A partition's lease lapses this long after its compactor's last renewal (a killed compactor).</summary>
    public int LeaseSecs { get; set; } = 60;
}

public sealed class StorageSection
{
    public FileMetaDumpSection FileMetaDump { get; set; } = new();
}

public sealed class FileMetaDumpSection
{
    public bool Enabled { get; set; } = true;
    public int IntervalSecs { get; set; } = 3600;
    /// <summary>Partitions whose day is at least this many days old are dumped.</summary>
    public int ColdAfterDays { get; set; } = 7;
}

public sealed class AlertManagerSection
{
    public int EvalIntervalSecs { get; set; } = 30;
    public int DispatchIntervalSecs { get; set; } = 10;
    public int LeaseSecs { get; set; } = 60;
    public int EvalTimeoutSecs { get; set; } = 60;
    public int MaxCatchUpWindows { get; set; } = 10;
    public int MaxAttempts { get; set; } = 8;
    public int RetryBaseSecs { get; set; } = 5;
    public int MaxRulesPerOrg { get; set; } = 1000;
    public int MaxDestinationsPerOrg { get; set; } = 100;
}

public sealed class ReportsSection
{
    public string ChromiumPath { get; set; } = "";
    public int TickSecs { get; set; } = 60;
}

public sealed class TelemetrySection
{
    public bool MetricsEnabled { get; set; } = true;
}

public sealed class AuthSection
{
    /// <summary>false only on loopback binds (a laptop sandbox): every route then acts as root.</summary>
    [Immutable] public bool Enabled { get; set; } = true;
    public int JwtTtlSecs { get; set; } = 3600;
    /// <summary>How long a verified credential is trusted without a look at the store.</summary>
    public int TokenCacheSecs { get; set; } = 30;
    public int AuditRetentionDays { get; set; } = 365;
    /// <summary>Deprecated: parsed for old configs only; use MS_AUTH_JWT_SECRET_OVERRIDE.</summary>
    [Secret] public string JwtSecret { get; set; } = "";
}

/// <summary>The syslog listener (RFC 5424 and RFC 3164 over TCP and UDP); a port of 0 is off.</summary>
public sealed class SyslogSection
{
    [Immutable] public string Bind { get; set; } = "0.0.0.0";
    [Immutable] public int TcpPort { get; set; } = 0;
    [Immutable] public int UdpPort { get; set; } = 0;
    /// <summary>The org and logs stream every message is written to.</summary>
    [Immutable] public string Org { get; set; } = "default";
    [Immutable] public string Stream { get; set; } = "syslog";
    /// <summary>A longer TCP frame closes the connection; a longer datagram is cut.</summary>
    [Immutable] public int MaxMessageKb { get; set; } = 64;
}

/// <summary>Queries over remote clusters (<c>?clusters=</c>; the remote_clusters table names them).</summary>
public sealed class FederationSection
{
    /// <summary>A remote cluster's scan that takes longer is dropped: the answer reports it degraded.</summary>
    public int RemoteTimeoutSecs { get; set; } = 30;
}

/// <summary>Who may sign the license of MS_LICENSE_FILE.</summary>
public sealed class LicenseSection
{
    /// <summary>Base64 of raw 32-byte Ed25519 public keys trusted beside the project's own.</summary>
    [Immutable] public string[] TrustedPublicKeys { get; set; } = [];
}

/// <summary>Per-org defaults; 0 = unlimited. Root overrides them per org through the API.</summary>
public sealed class QuotasSection
{
    public long IngestBytesPerDay { get; set; }
    public long MaxStreams { get; set; }
    public long StoredBytes { get; set; }
    public long MaxConcurrentQueries { get; set; }
}

public sealed class Secrets
{
    public string? CipherKey { get; set; }
    public string? JwtSecretOverride { get; set; }
    public string? RootUserEmail { get; set; }
    public string? RootUserPassword { get; set; }
    public string? LicenseFile { get; set; }
}

/// <summary>Changing this key needs a restart; a live change only logs a warning.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ImmutableAttribute : Attribute;

/// <summary>Redacted by --print-config.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class SecretAttribute : Attribute;

[AttributeUsage(AttributeTargets.Property)]
public sealed class NotAConfigKeyAttribute : Attribute;
