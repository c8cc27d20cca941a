namespace MoleSignal.Gateway.Ingest.Elasticsearch;

/// <summary>
/// The answers to a shipper's setup calls. Templates, ILM policies, data streams and ingest pipelines have no
/// meaning here (streams take any field; retention is a stream setting): reads say the thing exists, so a shipper
/// does not try to install it, and writes are acknowledged and ignored.
/// </summary>
public static class Handshake
{
    private const string Date = "2026-01-01T00:00:00.000Z";

    public static readonly object ClusterInfo = new Dictionary<string, object>
    {
        ["name"] = "molesignal",
        ["cluster_name"] = "molesignal",
        ["cluster_uuid"] = "molesignal",
        ["version"] = new Dictionary<string, object>
        {
            ["number"] = EsAnswers.Version,
            ["build_flavor"] = "default",
            ["build_type"] = "molesignal",
            ["build_hash"] = "molesignal",
            ["build_date"] = Date,
            ["build_snapshot"] = false,
            ["lucene_version"] = "9.12.0",
            ["minimum_wire_compatibility_version"] = "7.17.0",
            ["minimum_index_compatibility_version"] = "7.0.0",
        },
        ["tagline"] = "You Know, for Search",
    };

    private static readonly Dictionary<string, object> BasicLicense = new()
    {
        ["status"] = "active",
        ["uid"] = "molesignal",
        ["type"] = "basic",
        ["mode"] = "basic",
        ["issue_date"] = Date,
        ["issue_date_in_millis"] = 1767225600000,
        ["max_nodes"] = 1000,
        ["issued_to"] = "molesignal",
        ["issuer"] = "molesignal",
        ["start_date_in_millis"] = -1,
    };

    public static readonly object License = new Dictionary<string, object> { ["license"] = BasicLicense };

    public static readonly object XPack = new Dictionary<string, object>
    {
        ["build"] = new Dictionary<string, object> { ["hash"] = "molesignal", ["date"] = Date },
        ["license"] = BasicLicense,
        ["features"] = new Dictionary<string, object>(),
    };

    public static object IndexTemplate(string name) => new Dictionary<string, object>
    {
        ["index_templates"] = new[]
        {
            new Dictionary<string, object>
            {
                ["name"] = name,
                ["index_template"] = new Dictionary<string, object>
                {
                    ["index_patterns"] = new[] { name + "*" },
                    ["composed_of"] = Array.Empty<string>(),
                    ["data_stream"] = new Dictionary<string, object>(),
                },
            },
        },
    };

    public static object LegacyTemplate(string name) => new Dictionary<string, object>
    {
        [name] = new Dictionary<string, object>
        {
            ["order"] = 0,
            ["index_patterns"] = new[] { name + "*" },
            ["settings"] = new Dictionary<string, object>(),
            ["mappings"] = new Dictionary<string, object>(),
            ["aliases"] = new Dictionary<string, object>(),
        },
    };

    public static object IlmPolicy(string name) => new Dictionary<string, object>
    {
        [name] = new Dictionary<string, object>
        {
            ["version"] = 1,
            ["modified_date"] = Date,
            ["policy"] = new Dictionary<string, object> { ["phases"] = new Dictionary<string, object>() },
        },
    };

    public static object DataStream(string name) => new Dictionary<string, object>
    {
        ["data_streams"] = new[]
        {
            new Dictionary<string, object>
            {
                ["name"] = name,
                ["timestamp_field"] = new Dictionary<string, object> { ["name"] = "@timestamp" },
                ["indices"] = Array.Empty<object>(),
                ["generation"] = 1,
                ["status"] = "GREEN",
                ["template"] = name,
            },
        },
    };

    public static object Pipeline(string name) => new Dictionary<string, object>
    {
        [name] = new Dictionary<string, object>
        {
            ["description"] = "accepted by MoleSignal; pipelines are not run",
            ["processors"] = Array.Empty<object>(),
        },
    };

    /// <summary>A read gets the body, a write is acknowledged.</summary>
    public static IResult Answer(HttpRequest request, object existing) =>
        HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)
            ? EsAnswers.Json(existing)
            : EsAnswers.Json(new Dictionary<string, object> { ["acknowledged"] = true });
}
