using System.Diagnostics;
using MoleSignal.Gateway.Ingest;
using MoleSignal.Gateway.Ingest.Json;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Columnar;
using MoleSignal.Grains.Index;
using MoleSignal.Grains.Ingest;

// Hot-path stage timings on genlogs NDJSON: parse+flatten (gateway), columns, sort, Parquet, sidecar.
//   dotnet run -c Release --project bench/MoleSignal.Bench -- flush FILE.ndjson [rows] [rounds=2] (later rounds: JIT-warm)
if (args.Length >= 4 && args[0] == "convert") return MoleSignal.Bench.ProtocolBodies.Run(args);
if (args.Length >= 5 && args[0] == "grpc-send") return await MoleSignal.Bench.GrpcSender.RunAsync(args);
if (args.Length >= 1 && args[0] == "auth") return await MoleSignal.Bench.AuthBench.RunAsync(args);
if (args.Length >= 4 && args[0] == "scan") return await MoleSignal.Bench.ScanReader.RunAsync(args);
if (args.Length >= 2 && args[0] is "parse" or "parse-otlp" or "parse-otlp-json")
{
    // A body's parse + flatten + build alone, best and median of N rounds:
    //   MoleSignal.Bench parse|parse-otlp|parse-otlp-json FILE [rounds=15]
    // (parse: NDJSON; parse-otlp[-json]: one export request from `convert otlp|otlp-json`)
    var body = File.ReadAllBytes(args[1]);
    var n = args.Length > 2 ? int.Parse(args[2]) : 15;
    var seconds = new List<double>();
    var limits = new IngestLimits(MaxBatchBytes: 64 << 20, MaxBodyBytes: 1L << 30);
    var rows = 0;
    for (var i = 0; i < n; i++)
    {
        GC.Collect();
        var sw = Stopwatch.StartNew();
        using var b = new RecordBuilder(limits, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000);
        var error = args[0] switch
        {
            "parse-otlp" => MoleSignal.Gateway.Ingest.Otlp.OtlpLogsWire.Check(body, out _)
                            ?? MoleSignal.Gateway.Ingest.Otlp.OtlpLogsWire.Fill(b, body),
            "parse-otlp-json" => MoleSignal.Gateway.Ingest.Otlp.OtlpLogsJson.Check(body, out _)
                                 ?? MoleSignal.Gateway.Ingest.Otlp.OtlpLogsJson.Fill(b, body),
            _ => Parse(body, b),
        };
        if (error is not null) throw new InvalidDataException(error);
        rows = b.Build().Sum(batch => batch.Count);
        seconds.Add(sw.Elapsed.TotalSeconds);
    }
    seconds.Sort();
    Console.WriteLine($"{args[0]} {body.Length / 1048576.0:F0} MiB, {rows} rows: " +
                      $"best {body.Length / 1048576.0 / seconds[0]:F0} MiB/s {rows / seconds[0] / 1e3:F0} k rows/s, " +
                      $"median {rows / seconds[n / 2] / 1e3:F0} k rows/s ({seconds[n / 2] * 1e6 / rows:F2} µs/row)");
    return 0;

    static string? Parse(byte[] body, RecordBuilder b)
    {
        JsonBodyParser.Parse(body, b);
        return null;
    }
}
if (args.Length >= 2 && args[0] == "parse-bulk")
{
    // The same for an Elasticsearch _bulk body: action lines, documents, the answer. MoleSignal.Bench parse-bulk FILE
    var body = File.ReadAllBytes(args[1]);
    var n = args.Length > 2 ? int.Parse(args[2]) : 15;
    var limits = new IngestLimits(MaxBatchBytes: 64 << 20);
    var stages = new double[4][];
    for (var s = 0; s < 4; s++) stages[s] = new double[n];
    for (var i = 0; i < n; i++)
    {
        GC.Collect();
        var sw = Stopwatch.StartNew();
        var items = new List<MoleSignal.Gateway.Ingest.Elasticsearch.BulkItem>();
        MoleSignal.Gateway.Ingest.Elasticsearch.BulkRequest.Parse(body, "bench", items);
        stages[0][i] = sw.Elapsed.TotalSeconds;
        using var b = new RecordBuilder(limits, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000);
        MoleSignal.Gateway.Ingest.Elasticsearch.BulkEndpoint.Fill(b, body, items, [.. Enumerable.Range(0, items.Count)]);
        stages[1][i] = sw.Elapsed.TotalSeconds;
        b.Build();
        stages[2][i] = sw.Elapsed.TotalSeconds;
        using var answer = new MoleSignal.Gateway.Ingest.Elasticsearch.BulkResponse();
        foreach (var item in items) answer.Written(item, "bench");
        stages[3][i] = sw.Elapsed.TotalSeconds;
    }
    foreach (var s in stages) Array.Sort(s);
    string[] names = ["actions", "documents", "build", "answer"];
    var last = 0.0;
    for (var s = 0; s < 4; s++)
    {
        Console.WriteLine($"{names[s],-10} {(stages[s][n / 2] - last) * 1000:F1} ms");
        last = stages[s][n / 2];
    }
    Console.WriteLine($"parse-bulk {body.Length / 1048576.0:F0} MiB: median {body.Length / 1048576.0 / last:F0} MiB/s");
    return 0;
}
if (args.Length >= 3 && args[0] == "duckdb")
{
    // Engine time alone: MoleSignal.Bench duckdb 'GLOB' 'SQL over table t' [runs]
    using var conn = new DuckDB.NET.Data.DuckDBConnection("DataSource=:memory:");
    conn.Open();
    using (var c = conn.CreateCommand()) { c.CommandText = $"CREATE VIEW t AS SELECT * FROM read_parquet('{args[1]}', union_by_name = true)"; c.ExecuteNonQuery(); }
    var runs = args.Length > 3 ? int.Parse(args[3]) : 6;
    var times = new List<double>();
    for (var i = 0; i < runs; i++)
    {
        var sw = Stopwatch.StartNew();
        using var c = conn.CreateCommand();
        c.CommandText = args[2];
        using var r = c.ExecuteReader();
        while (r.Read()) { }
        times.Add(sw.Elapsed.TotalMilliseconds);
    }
    Console.WriteLine($"median {times.Skip(1).Order().ElementAt((runs - 1) / 2):F1} ms  ({string.Join(" ", times.Select(t => t.ToString("F1")))})");
    return 0;
}
if (args.Length >= 4 && args[0] == "balanced-streams")
{
    // Stream names the placement hash spreads evenly over the given ingester silo endpoints (host:port), so a
    // cluster benchmark loads every ingester alike: MoleSignal.Bench balanced-streams ORG PREFIX COUNT HOST:PORT...
    var silos = args[4..].Select(e => Orleans.Runtime.SiloAddress.New(System.Net.IPEndPoint.Parse(e), 0)).ToArray();
    var count = int.Parse(args[3]);
    var names = Enumerable.Range(0, 100_000).Select(i => $"{args[2]}{i}")
        .GroupBy(n => MoleSignal.Grains.Cluster.IngesterPlacementDirector.Owner($"{args[1]}|logs|{n}", silos))
        .SelectMany(g => g.Take(count / silos.Length))
        .Take(count);
    Console.WriteLine(string.Join(' ', names));
    return 0;
}
if (args.Length < 2 || args[0] != "flush")
{
    Console.Error.WriteLine("usage: MoleSignal.Bench flush FILE.ndjson [rows] [rounds] | duckdb GLOB SQL [runs] | auth [cached] [uncached] | balanced-streams ORG PREFIX COUNT HOST:PORT...");
    return 2;
}
var bytes = File.ReadAllBytes(args[1]);
if (args.Length > 2)
{
    var want = int.Parse(args[2]);
    var end = 0;
    for (var n = 0; n < want && end < bytes.Length; n++) end = Array.IndexOf(bytes, (byte)'\n', end) + 1;
    bytes = bytes[..end];
}
Console.WriteLine($"input: {bytes.Length / 1048576.0:F1} MiB");

using var encoder = new ParquetEncoder(Path.Combine(Path.GetTempPath(), "molesignal-bench-parquet"));
var rounds = args.Length > 3 ? int.Parse(args[3]) : 2;
for (var round = 0; round < rounds; round++)
{
    var sw = Stopwatch.StartNew();
    using var builder = new RecordBuilder(new IngestLimits(MaxBatchBytes: 64 << 20), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000);
    JsonBodyParser.Parse(bytes, builder);
    var batches = builder.Build();
    var tParse = sw.Elapsed.TotalSeconds;
    var schema = new StreamSchema();
    foreach (var b in batches) schema.Merge(b.FieldNames, b.FieldKinds);
    var rows = batches.Sum(b => b.Count);

    sw.Restart();
    var set = new ColumnSet(batches, schema.Fields);
    var tColumns = sw.Elapsed.TotalSeconds;
    sw.Restart();
    var order = set.SortedOrder();
    var tSort = sw.Elapsed.TotalSeconds;
    sw.Restart();
    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
    using var parquet = await encoder.EncodeAsync(set, order, 0, rows);
    var tParquet = sw.Elapsed.TotalSeconds;
    var cpuParquet = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
    sw.Restart();
    var sidecar = IndexSidecar.Build(set, order, 0, rows,
        new FieldPatterns(["log", "message", "msg", "content", "data", "body", "error_*"]),
        new FieldPatterns(["trace_id", "span_id", "request_id"]));
    var tSidecar = sw.Elapsed.TotalSeconds;
    sw.Restart();
    IndexSidecar.Build(set, order, 0, rows, new FieldPatterns([]), new FieldPatterns(["trace_id", "span_id", "request_id"]));
    var tBlooms = sw.Elapsed.TotalSeconds;
    var mib = bytes.Length / 1048576.0;
    Console.WriteLine($"round {round}: {rows} rows");
    Console.WriteLine($"  parse+flatten {tParse:F2}s ({mib / tParse:F0} MiB/s, {rows / tParse:F0} rows/s)");
    Console.WriteLine($"  columns       {tColumns:F2}s ({rows / tColumns:F0} rows/s)");
    Console.WriteLine($"  sort          {tSort:F2}s");
    Console.WriteLine($"  parquet       {tParquet:F2}s ({rows / tParquet:F0} rows/s) -> {parquet.Length / 1048576.0:F1} MiB (1/{bytes.Length / (double)parquet.Length:F2}), {cpuParquet:F2}s CPU");
    Console.WriteLine($"  sidecar       {tSidecar:F2}s ({rows / tSidecar:F0} rows/s) -> {sidecar.Length / 1048576.0:F1} MiB (blooms alone {tBlooms:F2}s)");
    Console.WriteLine($"  GC heap after: {GC.GetTotalMemory(false) / 1048576} MiB, peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576} MiB");
}
return 0;
