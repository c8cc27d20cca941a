using System.Text.Json;

namespace MoleSignal.Gateway.Ingest.Elasticsearch;

/// <summary>Elasticsearch's answer conventions: the product header clients check, and its error shape
/// <c>{"error":{"root_cause":[…],"type","reason"},"status"}</c>.</summary>
public static class EsAnswers
{
    /// <summary>The version the handshake reports: the 8.x API that Beats, Logstash, Vector, Fluent Bit and the
    /// official clients speak to.</summary>
    public const string Version = "8.17.0";

    public static void MarkProduct(HttpResponse response) =>
        response.Headers["X-Elastic-Product"] = "Elasticsearch";

    public static IResult Error(int status, string type, string reason)
    {
        var cause = new Dictionary<string, object> { ["type"] = type, ["reason"] = reason };
        return Results.Json(new Dictionary<string, object>
        {
            ["error"] = new Dictionary<string, object>(cause) { ["root_cause"] = new[] { cause } },
            ["status"] = status,
        }, statusCode: status);
    }

    /// <summary>The Elasticsearch error type of a request failure of ours.</summary>
    public static string TypeOf(RequestFailure f) => f.Status switch
    {
        413 => "content_too_long_exception",
        429 => "es_rejected_execution_exception",
        _ => "illegal_argument_exception",
    };

    public static IResult Json(object body) => Results.Json(body, JsonOptions);

    private static readonly JsonSerializerOptions JsonOptions = new();
}
