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
        if (IngestRequest.Options(request, out var asked, out var options) is { } bad)
            return EsAnswers.Error(bad.Status, "illegal_argument_exception", bad.Message);
        using var body = await IngestBody.ReadAsync(request, pipeline.Limits, ct);
        if (body.Failure is { } failure)
            return EsAnswers.Error(failure.Status, EsAnswers.TypeOf(failure), failure.Message);
        var items = new List<BulkItem>();
        if (BulkRequest.Parse(body.Span, index, items, asked) is { } malformed)
            return EsAnswers.Error(400, "illegal_argument_exception", malformed);

        // Items of one index are usually adjacent and share one stream string: the last run is looked up once.
        var byStream = new Dictionary<string, StreamRun>(StringComparer.Ordinal);
        StreamRun? run = null;
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i].Stream is not { } stream) continue;
            if (!ReferenceEquals(run?.Stream, stream) && !byStream.TryGetValue(stream, out run))
                byStream[stream] = run = new StreamRun(stream);
            run!.Items.Add(i);
            run.Bytes += items[i].DocLength;
        }
        var org = OrgHeader.Current(request);
        var createsOrg = IngestRequest.CreatesOrg(request);
        await Task.WhenAll(byStream.Values.Select(async r => r.Outcome = await pipeline.IngestAsync(
            new IngestTarget(org, StreamKey.Logs, r.Stream), r.Bytes, createsOrg,
            b => Fill(b, body.Span, items, r.Items), trackRejected: true, options, ct)));

        var answer = new BulkResponse();
        foreach (var r in byStream.Values)
        {
            IngestHttp.CountWarnings(r.Outcome);
            IngestHttp.MarkReplayed(r.Outcome, request.HttpContext.Response);
        }
        run = null;
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
            if (!ReferenceEquals(run?.Stream, item.Stream)) run = byStream[item.Stream!];
            var outcome = run!.Outcome;
            if (outcome.RejectedReasons?.TryGetValue(i, out var reason) == true)
            {
                answer.Refused(item, 400, "document_parsing_exception", reason);
                continue;
            }
            // Batches are appended in order: after a WAL failure the first Accepted documents are the written ones.
            if (outcome.Status == IngestStatus.Ok
                || (outcome.Status == IngestStatus.WalFailed && run.Written < outcome.Accepted))
            {
                run.Written++;
                answer.Written(item, run.Stream);
                continue;
            }
            answer.Refused(item, IngestHttp.StatusCode(outcome.Status), TypeOf(outcome.Status),
                outcome.Status == IngestStatus.QuotaExceeded
                    ? "the org's quota refuses this write"
                    : outcome.Message ?? "");
        }
        return answer.Took((long)clock.Elapsed.TotalMilliseconds);
    }

    // One stream's items, their size, the pipeline's outcome and how many of them were answered 201 so far.
    private sealed class StreamRun(string stream)
    {
        public string Stream { get; } = stream;
        public List<int> Items { get; } = [];
        public long Bytes { get; set; }
        public IngestOutcome Outcome { get; set; } = null!;
        public int Written { get; set; }
    }

    private static string TypeOf(IngestStatus status) => status switch
    {
        IngestStatus.Backpressure or IngestStatus.QuotaExceeded => "es_rejected_execution_exception",
        IngestStatus.AllRejected => "document_parsing_exception",
        _ => "exception",
    };

    private static readonly JsonReaderOptions DocumentOptions = new() { MaxDepth = 1024 };

    /// <summary>Reads the documents of <paramref name="indexes"/> (items of one stream) into the builder.</summary>
    public static string? Fill(RecordBuilder b, ReadOnlySpan<byte> span, List<BulkItem> items, List<int> indexes)
    {
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
