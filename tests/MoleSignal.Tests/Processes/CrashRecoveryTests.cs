using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Parquet;

namespace MoleSignal.Tests.Processes;

/// <summary>
/// Durability: concurrent clients ingest while the process is killed with SIGKILL at a random moment, over
/// several cycles. After a last restart (which replays the WAL and flushes), every acknowledged batch is in the
/// data files exactly once, and a batch whose request was cut by the kill is there once or not at all.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class CrashRecoveryTests
{
    private const int Clients = 4;
    private const int BatchSize = 50;
    private const int Cycles = 3;

    private sealed class ClientLedger
    {
        public readonly HashSet<string> Acked = [];
        public readonly HashSet<string> Uncertain = []; // sent, but the kill cut the answer
    }

    [Theory]
    [InlineData("every_write")]
    [InlineData("batch")]
    public async Task Every_acknowledged_record_survives_kill_9_exactly_once(string strategy)
    {
        using var dir = new TempDir();
        var env = new Dictionary<string, string>
        {
            ["MS_WAL.FLUSH_STRATEGY"] = strategy,
            ["MS_WAL.SEGMENT_SIZE_MB"] = "1",
            ["MS_INGESTER.FLUSH_INTERVAL_SECS"] = "1",
            ["MS_INGESTER.FLUSH_THRESHOLD_MB"] = "1",
        };
        var ledgers = Enumerable.Range(0, Clients).Select(_ => new ClientLedger()).ToArray();
        var rng = new Random(strategy.Length * 7919);
        var replays = 0;
        for (var cycle = 0; cycle < Cycles; cycle++)
        {
            using var node = MoleSignalNode.Start(env, workDir: dir.Path);
            await node.WaitHealthyAsync();
            var killAfterAcks = rng.Next(20, 120);
            var acks = 0;
            var killing = 0;
            using var stop = new CancellationTokenSource();
            var clients = Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
            {
                using var http = MoleSignalNode.NewClient(node.Http.BaseAddress!);
                for (var n = 0; !stop.IsCancellationRequested; n++)
                {
                    var batchId = $"c{c}-y{cycle}-n{n}";
                    var body = new StringBuilder();
                    for (var i = 0; i < BatchSize; i++)
                        body.Append($"{{\"_timestamp\":{1767225600000000L + cycle * 1_000_000_000L + n * 1000 + i},\"batch\":\"{batchId}\",\"i\":{i},\"message\":\"client {c} record {i} of {batchId}\"}}\n");
                    var content = new StringContent(body.ToString());
                    content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
                    try
                    {
                        using var resp = await http.PostAsync($"/api/v1/ingest/crash{c}", content);
                        if (resp.StatusCode != HttpStatusCode.OK) throw new HttpRequestException($"status {resp.StatusCode}");
                        lock (ledgers[c]) ledgers[c].Acked.Add(batchId);
                        if (Interlocked.Increment(ref acks) == killAfterAcks)
                        {
                            Volatile.Write(ref killing, 1);
                            node.Process.Kill();
                        }
                    }
                    catch (Exception) when (Volatile.Read(ref killing) == 1)
                    {
                        lock (ledgers[c]) ledgers[c].Uncertain.Add(batchId);
                        return;
                    }
                }
            })).ToArray();
            await Poll.UntilAsync(() => node.Process.HasExited, TimeSpan.FromSeconds(120), "the kill");
            replays += node.Process.Output.Split('\n').Count(l => l.Contains("replayed") && !l.Contains("replayed 0 "));
            stop.Cancel();
            await Task.WhenAll(clients);
        }

        using (var node = MoleSignalNode.Start(env, workDir: dir.Path))
        {
            await node.WaitHealthyAsync(TimeSpan.FromSeconds(120)); // replay done, buffers flushed
            replays += node.Process.Output.Split('\n').Count(l => l.Contains("replayed") && !l.Contains("replayed 0 "));
            Assert.True(replays > 0, "no restart found anything to replay: the kills never caught unflushed data");
            // A client whose stream was still activating when the kill came may have no ack in a cycle.
            Assert.True(ledgers.Sum(l => l.Acked.Count) >= Cycles * 20, "too few acknowledged batches to prove anything");
            for (var c = 0; c < Clients; c++)
            {
                var counts = await BatchCountsAsync(dir.Path, $"crash{c}");
                var ledger = ledgers[c];
                foreach (var id in ledger.Acked)
                    Assert.True(counts.TryGetValue(id, out var n) && n == BatchSize, $"{strategy}: acknowledged batch {id} has {counts.GetValueOrDefault(id)} of {BatchSize} records");
                foreach (var (id, n) in counts)
                {
                    Assert.True(ledger.Acked.Contains(id) || ledger.Uncertain.Contains(id), $"{strategy}: batch {id} was never sent");
                    Assert.Equal(BatchSize, n); // never duplicated, never partial
                }
                // The API agrees with the files: nothing left buffered after replay.
                Assert.Equal(counts.Values.Sum(), await NodeQueries.RecordsAsync(node.Http, $"crash{c}"));
            }
        }
    }

    /// <summary>Records per batch id over every data file FileMeta lists.</summary>
    private static async Task<Dictionary<string, int>> BatchCountsAsync(string workDir, string stream)
    {
        var counts = new Dictionary<string, int>();
        foreach (var f in await NodeQueries.FilesAsync(workDir, stream))
        {
            await using var reader = await ParquetReader.CreateAsync(File.OpenRead(NodeQueries.ObjectPath(workDir, f.ObjectKey)));
            var field = reader.Schema.DataFields.Single(d => d.Name == "batch");
            for (var g = 0; g < reader.RowGroupCount; g++)
            {
                using var rg = reader.OpenRowGroupReader(g);
                var values = new string[rg.RowCount];
                await rg.ReadAsync(field, values);
                foreach (var v in values) counts[v] = counts.GetValueOrDefault(v) + 1;
            }
        }
        return counts;
    }
}
