using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MoleSignal.Tests.Processes;

namespace MoleSignal.Tests.Ingest.Otlp;

/// <summary>
/// OTLP/JSON over HTTP. The .NET SDK exports protobuf only, so the bodies are the OTLP specification's own JSON
/// examples (hex ids, lowerCamelCase names, integer enums, 64-bit integers as strings).
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class OtlpJsonTests
{
    private const string TraceId = "5b8efff798038103d269b633813fc60c", SpanId = "eee19b7ec3c1b174";

    private static async Task<(HttpStatusCode Status, JsonElement Body, string? Type)> PostAsync(
        MoleSignalNode node, string signal, string json, string stream)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/otlp/v1/{signal}")
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        req.Headers.Add("stream-name", stream);
        using var resp = await node.Http.SendAsync(req);
        var text = await resp.Content.ReadAsStringAsync();
        return (resp.StatusCode, JsonDocument.Parse(text).RootElement.Clone(),
            resp.Content.Headers.ContentType?.MediaType);
    }

    private const string Resource = """
        "resource": { "attributes": [ { "key": "service.name", "value": { "stringValue": "my.service" } } ] }
        """;

    [Fact]
    public async Task Logs_and_spans_in_otlp_json_are_rows_with_hex_ids_and_the_answer_is_json()
    {
        using var node = MoleSignalNode.Start();
        await node.WaitHealthyAsync();
        var logs = $$"""
            { "resourceLogs": [ { {{Resource}}, "scopeLogs": [ { "scope": { "name": "my.library", "version": "1.0.0" },
              "logRecords": [ { "timeUnixNano": "1764583200000000000", "severityNumber": 10, "severityText": "Information",
                "traceId": "{{TraceId}}", "spanId": "{{SpanId}}", "body": { "stringValue": "Example log record" },
                "attributes": [ { "key": "int.attribute", "value": { "intValue": "10" } },
                                { "key": "unknownNext", "value": { "boolValue": true } } ],
                "aNewFieldTheSpecMayAdd": 1 } ] } ] } ] }
            """;
        var (status, body, type) = await PostAsync(node, "logs", logs, "jsonlogs");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("application/json", type);
        Assert.Equal(JsonValueKind.Object, body.ValueKind);
        Assert.Equal($"[[\"Example log record\",\"Information\",10,\"{TraceId}\",\"{SpanId}\",10,\"my.service\"," +
                     "1764583200000000]]", await NodeQueries.SqlAsync(node.Http,
            "SELECT body, severity, severity_number, trace_id, span_id, int_attribute, service_name, _timestamp " +
            "FROM jsonlogs"));

        var traces = $$"""
            { "resourceSpans": [ { {{Resource}}, "scopeSpans": [ { "scope": { "name": "my.library" },
              "spans": [ { "traceId": "{{TraceId}}", "spanId": "{{SpanId}}", "parentSpanId": "",
                "name": "a server span", "startTimeUnixNano": "1764583200000000000",
                "endTimeUnixNano": "1764583201000000000", "kind": 2,
                "attributes": [ { "key": "my.span.attr", "value": { "stringValue": "some value" } } ] } ] } ] } ] }
            """;
        (status, _, _) = await PostAsync(node, "traces", traces, "jsontraces");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal($"[[\"{TraceId}\",\"{SpanId}\",\"a server span\",1000000,\"some value\"]]",
            await NodeQueries.SqlAsync(node.Http,
                "SELECT trace_id, span_id, name, duration, my_span_attr FROM traces.jsontraces"));
    }

    [Theory]
    [InlineData("{\"resourceLogs\": [", "not an OTLP logs export request")]
    [InlineData("{\"resourceLogs\": 5}", "not an OTLP logs export request")]
    [InlineData("{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"traceId\":\"zz\"}]}]}]}",
        "not an OTLP logs export request")]
    [InlineData("{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"attributes\":[{\"key\":\"a\"," +
        "\"value\":{\"intValue\":true}}]}]}]}]}", "intValue must be a 64-bit integer")]
    [InlineData("{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":\"text\"}]}]}]}",
        "body must be an AnyValue object")]
    [InlineData("{\"resourceLogs\":[{\"resource\":{\"attributes\":{}}}]}", "key-values must be an array")]
    [InlineData("{\"resourceLogs\":[]} {}", "not an OTLP logs export request")]
    [InlineData("{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"stringValue\":\"a\"," +
        "\"intValue\":\"1\"}}]}]}]}", "an AnyValue holds one value")]
    [InlineData("{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"a\",\"value\":{\"kvlistValue\":" +
        "{\"values\":[{\"value\":{\"boolValue\":1},\"key\":\"b\"}]}}}]}}]}", "boolValue must be true or false")]
    [InlineData("[]", "the request must be a JSON object")]
    public async Task A_body_that_is_no_otlp_json_request_is_a_json_status_and_writes_nothing(string json,
        string reason)
    {
        using var node = MoleSignalNode.Start();
        await node.WaitHealthyAsync();
        var (status, body, type) = await PostAsync(node, "logs", json, "badjson");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("application/json", type);
        Assert.Equal(3, body.GetProperty("code").GetInt32());
        Assert.Contains(reason, body.GetProperty("message").GetString());
        Assert.Null(await NodeQueries.StreamAsync(node.Http, "badjson"));
        Assert.False(node.Process.HasExited);
    }
}
