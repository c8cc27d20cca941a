using System.Diagnostics;
using System.Text.Json;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Gateway.Ingest.Json;

namespace MoleSignal.Gateway.Ingest.Elasticsearch;

/// <summary>
/// <c>_bulk</c>: <c>index</c> and <c>create</c> actions append their documents to the stream named by
/// <c>_index</c> (or the path's index), each document read as one JSON record; <c>update</c> and <c>delete</c> are
/// refused per item. Each stream's items go through the ingest pipeline at once (streams in parallel); the answer
/// gives every item its own status.
/// </summary>
public static class BulkEndpoint
{
    public static async Task<IResult> HandleAsync(HttpRequest request, string? index, IngestPipeline pipeline,
        CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        if (IngestRequest.Options(request, out var asked, out var mapping) is { } bad)
            return EsAnswers.Error(bad.Status, "illegal_argument_exception", bad.Message);
        using var body = await IngestBody.ReadAsync(request, pipeline.Limits, ct);
        if (body.Failure is { } failure)
            return EsAnswers.Error(failure.Status, EsAnswers.TypeOf(failure), failure.Message);
        var items = new List<BulkItem>();
        if (BulkRequest.Parse(body.Span, index, items, asked) is { } malformed)
            return EsAnswers.Error(400, "illegal_argument_exception", malformed);

        var byStream = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i].Stream is not { } stream) continue;
            if (!byStream.TryGetValue(stream, out var list)) byStream[stream] = list = [];
            list.Add(i);
        }
        var org = OrgHeader.Current(request);
        var createsOrg = IngestRequest.CreatesOrg(request);
        var runs = byStream.Select(async s =>
        {
            long bytes = 0;
            foreach (var i in s.Value) bytes += items[i].DocLength;
            var outcome = await pipeline.IngestAsync(new IngestTarget(org, StreamKey.Logs, s.Key), bytes, createsOrg,
                b => Fill(b, body, items, s.Value), trackRejected: true, mapping, ct);
            return (Stream: s.Key, Outcome: outcome);
        }).ToArray();
        var outcomes = (await Task.WhenAll(runs)).ToDictionary(r => r.Stream, r => r.Outcome, StringComparer.Ordinal);

        using var answer = new BulkResponse();
        var written = new Dictionary<string, int>(StringComparer.Ordinal); // items answered 201 so far, per stream
        foreach (var o in outcomes.Values) IngestHttp.CountWarnings(o);
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            if (item.Refusal is { } refusal)
            {
                answer.Refused(item, 400, item.Stream is null && item.Action is BulkAction.Index or BulkAction.Create
                    ? "invalid_index_name_exception"
                    : "illegal_argument_exception", refusal);
                continue;
            }
            var outcome = outcomes[item.Stream!];
            if (outcome.RejectedReasons?.TryGetValue(i, out var reason) == true)
            {
                answer.Refused(item, 400, "document_parsing_exception", reason);
                continue;
            }
            // Batches are appended in order: after a WAL failure the first Accepted documents are the written ones.
            written.TryGetValue(item.Stream!, out var done);
            if (outcome.Status == IngestStatus.Ok
                || (outcome.Status == IngestStatus.WalFailed && done < outcome.Accepted))
            {
                written[item.Stream!] = done + 1;
                answer.Written(item, item.Stream!);
                continue;
            }
            answer.Refused(item, IngestHttp.StatusCode(outcome.Status), TypeOf(outcome.Status),
                outcome.Status == IngestStatus.QuotaExceeded
                    ? "the org's quota refuses this write"
                    : outcome.Message ?? "");
        }
        return Results.Bytes(answer.ToBytes((long)clock.Elapsed.TotalMilliseconds), "application/json");
    }

    private static string TypeOf(IngestStatus status) => status switch
    {
        IngestStatus.Backpressure or IngestStatus.QuotaExceeded => "es_rejected_execution_exception",
        IngestStatus.AllRejected => "document_parsing_exception",
        _ => "exception",
    };

    private static readonly JsonReaderOptions DocumentOptions = new() { MaxDepth = 1024 };

    private static string? Fill(RecordBuilder b, IngestBody body, List<BulkItem> items, List<int> indexes)
    {
        var span = body.Span;
        foreach (var i in indexes)
        {
            var doc = span.Slice(items[i].DocStart, items[i].DocLength);
            try
            {
                var reader = new Utf8JsonReader(doc, DocumentOptions);
                reader.Read();
                JsonRecordReader.Add(b, ref reader, doc, i);
            }
            catch (JsonException e)
            {
                b.Reject(i, $"failed to parse the document: {e.Message}");
            }
        }
        return null;
    }
}
