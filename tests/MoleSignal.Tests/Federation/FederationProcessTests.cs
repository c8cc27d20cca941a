using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Apache.Arrow.Ipc;
using DuckDB.NET.Data;
using Grpc.Core;
using Grpc.Net.Client;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Rpc.V1;

using MoleSignal.Tests.Processes;

namespace MoleSignal.Tests.Federation;

/// <summary>
/// Two independent clusters on loopback, each its own metadata and object store: "local" (the coordinator, with a
/// self-issued license granting federated_search) and "b" (another root password: the coordinator can only reach
/// it with the token of its remote_clusters row). Remote clusters that fail in each way point at b with bad
/// credentials, at a closed port, at a listener that never answers, or are disabled.
/// </summary>
public sealed class FederationFixture : IAsyncLifetime
{
    public const int LocalRecords = 12_000, RemoteRecords = 9_000;
    public const string RemotePassword = "remote-root-password-2";
    public TempDir Dir { get; } = new("ms-federation");
    public TestLicense Issuer { get; } = new();
    public MoleSignalNode Local { get; private set; } = null!;
    public MoleSignalNode Remote { get; private set; } = null!;
    public int RemoteGrpcPort { get; private set; }
    public string RemoteToken { get; private set; } = null!;
    public string LocalFlat => Dir.Combine("local.ndjson");
    public string RemoteFlat => Dir.Combine("remote.ndjson");
    private TcpListener? _silent;

    public async Task InitializeAsync()
    {
        var remoteEnv = MoleSignalNode.DefaultEnv(freePorts: true);
        remoteEnv["MS_ROOT_USER_PASSWORD"] = RemotePassword;
        remoteEnv["MS_INGESTER.FLUSH_THRESHOLD_MB"] = "2"; // files and a buffered tail
        RemoteGrpcPort = int.Parse(remoteEnv["MS_GRPC.PORT"]);
        Directory.CreateDirectory(Dir.Combine("b"));
        Remote = MoleSignalNode.Start(remoteEnv, workDir: Dir.Combine("b"));
        Remote.Http.DefaultRequestHeaders.Authorization =
            MoleSignalNode.Basic(MoleSignalNode.RootEmail, RemotePassword);
        await Remote.WaitHealthyAsync();
        (_, RemoteToken) = await AuthApi.ServiceTokenAsync(Remote.Http, "default", "viewer");
        await AuthApi.CreateOrgAsync(Remote.Http, "other");
        var (_, otherToken) = await AuthApi.ServiceTokenAsync(Remote.Http, "other", "viewer");
        var (_, ingestOnly) = await AuthApi.ServiceTokenAsync(Remote.Http, "default", "ingester");

        File.WriteAllText(Dir.Combine("license.json"), Issuer.Valid(LicenseFeatures.FederatedSearch));
        Directory.CreateDirectory(Dir.Combine("local"));
        Local = MoleSignalNode.Start(new Dictionary<string, string>
        {
            ["MS_LICENSE_FILE"] = Dir.Combine("license.json"),
            ["MS_LICENSE.TRUSTED_PUBLIC_KEYS"] = Issuer.PublicKey,
            ["MS_FEDERATION.REMOTE_TIMEOUT_SECS"] = "3",
            ["MS_INGESTER.FLUSH_THRESHOLD_MB"] = "2",
            ["MS_FEDERATION_B_TOKEN"] = RemoteToken,
            ["MS_FEDERATION_OTHER_ORG_TOKEN"] = otherToken,
            ["MS_FEDERATION_INGEST_TOKEN"] = ingestOnly,
            ["MS_FEDERATION_WRONG_TOKEN"] = "ms_000000000000_" + new string('0', 40),
        }, workDir: Dir.Combine("local"));
        await Local.WaitHealthyAsync();

        await FederationData.LoadAsync(Local, LocalRecords, 7, LocalFlat);
        await FederationData.LoadAsync(Remote, RemoteRecords, 8, RemoteFlat);

        _silent = new TcpListener(IPAddress.Loopback, 0);
        _silent.Start(); // accepts connections (the kernel's backlog) and never answers
        var silentPort = ((IPEndPoint)_silent.LocalEndpoint).Port;
        await AddRemoteAsync("b", RemoteGrpcPort, "env:MS_FEDERATION_B_TOKEN");
        await AddRemoteAsync("wrong-token", RemoteGrpcPort, "env:MS_FEDERATION_WRONG_TOKEN");
        await AddRemoteAsync("other-org", RemoteGrpcPort, "env:MS_FEDERATION_OTHER_ORG_TOKEN");
        await AddRemoteAsync("ingest-only", RemoteGrpcPort, "env:MS_FEDERATION_INGEST_TOKEN");
        await AddRemoteAsync("down", Ports.Free(), "env:MS_FEDERATION_B_TOKEN");
        await AddRemoteAsync("silent", silentPort, "env:MS_FEDERATION_B_TOKEN");
        await AddRemoteAsync("off", RemoteGrpcPort, "env:MS_FEDERATION_B_TOKEN", enabled: false);
    }

    private Task AddRemoteAsync(string name, int port, string tokenRef, bool enabled = true) =>
        AuthApi.SendAsync(Local.Http, HttpMethod.Post, "/api/v1/remote_clusters", new
        {
            name, advertise_addr = $"127.0.0.1:{port}", token_secret_ref = tokenRef, tls_verify = false, enabled,
        }, expect: HttpStatusCode.Created);

    public Task DisposeAsync()
    {
        _silent?.Stop();
        Local.Dispose();
        Remote.Dispose();
        Issuer.Dispose();
        Dir.Dispose();
        return Task.CompletedTask;
    }
}

[Collection(ProcessCollection.Name)]
public sealed class FederationProcessTests(FederationFixture fx) : IClassFixture<FederationFixture>
{
    private async Task<(HttpStatusCode Status, JsonElement Body)> QueryAsync(string sql, string clusters,
        string path = "/api/v1/query")
    {
        using var resp = await fx.Local.Http.PostAsJsonAsync($"{path}?clusters={clusters}", new { sql, limit = 0 });
        var text = await resp.Content.ReadAsStringAsync();
        return (resp.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    private static List<List<string?>> Rows(JsonElement body) => FederationData.Rows(body);

    /// <summary>The same SQL over the records of both clusters in one plain DuckDB.</summary>
    private List<List<string?>> Oracle(string sql) =>
        FederationData.Oracle(sql, ("local", fx.LocalFlat), ("b", fx.RemoteFlat));

    [Theory]
    [InlineData("SELECT count(*) FROM web")]
    [InlineData("SELECT _cluster, count(*) FROM web GROUP BY _cluster ORDER BY _cluster")]
    [InlineData("SELECT _cluster, level, count(*) FROM web GROUP BY ALL ORDER BY ALL")]
    [InlineData("SELECT count(*) FROM web WHERE level = 'ERROR'")]
    [InlineData("SELECT count(*) FROM web WHERE _cluster = 'b' AND level = 'WARN'")]
    [InlineData("SELECT _timestamp // 60000000 AS m, count(*) FROM web GROUP BY m ORDER BY m")]
    [InlineData("SELECT service, round(quantile_cont(http_duration_ms, 0.95), 6) AS p95 FROM web " +
                "WHERE http_status >= 500 GROUP BY 1 ORDER BY p95 DESC, 1 LIMIT 10")]
    [InlineData("SELECT _timestamp, _cluster, service, message FROM web ORDER BY _timestamp DESC, message LIMIT 30")]
    [InlineData("SELECT _timestamp, trace_id, level FROM web ORDER BY _timestamp DESC LIMIT 50")]
    [InlineData("SELECT DISTINCT kubernetes_namespace FROM web ORDER BY 1")]
    public async Task Federated_answers_equal_duckdb_over_both_clusters_rows(string sql)
    {
        var (status, body) = await QueryAsync(sql, "local,b");
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal(Oracle(sql), Rows(body));
        var federation = body.GetProperty("federation");
        Assert.Equal(["local", "b"], federation.GetProperty("scanned_clusters").EnumerateArray()
            .Select(c => c.GetString()!));
        Assert.Empty(federation.GetProperty("degraded_clusters").EnumerateArray());
    }

    [Fact]
    public async Task Match_all_finds_on_each_cluster_what_that_cluster_finds_alone()
    {
        const string where = "WHERE match_all('timeout') AND level <> 'DEBUG'";
        var local = await NodeQueries.SqlAsync(fx.Local.Http, $"SELECT count(*) FROM web {where}");
        var remote = await NodeQueries.SqlAsync(fx.Remote.Http, $"SELECT count(*) FROM web {where}");
        Assert.NotEqual("[[0]]", remote);
        var (status, body) = await QueryAsync($"SELECT _cluster, count(*) FROM web {where} GROUP BY 1 ORDER BY 1",
            "local,b");
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal($"[[\"b\",{remote[2..^2]}],[\"local\",{local[2..^2]}]]", body.GetProperty("rows").GetRawText());
    }

    [Fact]
    public async Task Match_all_rows_are_each_clusters_own_matches_tagged()
    {
        // Each cluster applies the WHERE clause with its own index; the coordinator keeps their rows as sent.
        const string where = "WHERE match_all('timeout') AND level <> 'DEBUG'";
        const string select = "SELECT _timestamp, message FROM web " + where;
        var local = await NodeQueries.SqlAsync(fx.Local.Http, select + " ORDER BY 1, 2");
        var remote = await NodeQueries.SqlAsync(fx.Remote.Http, select + " ORDER BY 1, 2");
        var (status, body) = await QueryAsync($"SELECT _cluster, _timestamp, message FROM web {where} " +
                                              "ORDER BY 1, 2, 3", "local,b");
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        var rows = body.GetProperty("rows").EnumerateArray().Select(r => r.EnumerateArray().ToList()).ToList();
        Assert.Equal(remote, Json(rows.Where(r => r[0].GetString() == "b")));
        Assert.Equal(local, Json(rows.Where(r => r[0].GetString() == "local")));
        Assert.NotEqual("[]", remote);

        static string Json(IEnumerable<List<JsonElement>> rows) =>
            "[" + string.Join(",", rows.Select(r => "[" + string.Join(",", r.Skip(1).Select(v => v.GetRawText())) +
                                                   "]")) + "]";
    }

    [Theory]
    [InlineData("local,b", FederationFixture.LocalRecords + FederationFixture.RemoteRecords)]
    [InlineData("local,down,b", FederationFixture.LocalRecords + FederationFixture.RemoteRecords)]
    [InlineData("b", FederationFixture.RemoteRecords)]
    [InlineData("down,local", FederationFixture.LocalRecords)]
    public async Task A_count_of_every_record_adds_each_clusters_own_count(string clusters, int expected)
    {
        var (status, body) = await QueryAsync("SELECT count(*) AS n FROM web", clusters);
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal([[expected.ToString()]], Rows(body));
        var federation = body.GetProperty("federation");
        Assert.Equal(clusters.Split(',').Where(c => c != "down").OrderBy(c => c != "local"),
            federation.GetProperty("scanned_clusters").EnumerateArray().Select(c => c.GetString()!));
        Assert.Equal(clusters.Contains("down") ? ["down"] : Array.Empty<string>(),
            federation.GetProperty("degraded_clusters").EnumerateArray().Select(c => c.GetString()!));
    }

    [Fact]
    public async Task A_trace_id_of_the_remote_is_found_through_its_bloom_filters()
    {
        var id = Oracle("SELECT trace_id FROM web WHERE _cluster = 'b' AND trace_id IS NOT NULL ORDER BY _timestamp " +
                        "LIMIT 1")[0][0];
        var sql = $"SELECT _cluster, trace_id, service FROM web WHERE trace_id = '{id}' ORDER BY ALL";
        var (status, body) = await QueryAsync(sql, "local,b");
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.NotEmpty(Rows(body));
        Assert.Equal(Oracle(sql), Rows(body));
    }

    [Fact]
    public async Task Only_the_remote_when_local_is_not_named_and_only_local_when_only_it_is()
    {
        const string sql = "SELECT _cluster, count(*) FROM web GROUP BY 1 ORDER BY 1";
        var (status, body) = await QueryAsync(sql, "b");
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal([["b", FederationFixture.RemoteRecords.ToString()]], Rows(body));
        (status, body) = await QueryAsync(sql, "local");
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal([["local", FederationFixture.LocalRecords.ToString()]], Rows(body));
    }

    [Theory]
    [InlineData("down", "unreachable")]
    [InlineData("silent", "remote_timeout_secs")]
    [InlineData("wrong-token", "refused the token")]
    [InlineData("other-org", "refused access")]
    [InlineData("ingest-only", "may not read")]
    [InlineData("off", "disabled")]
    public async Task A_failing_remote_is_reported_degraded_and_the_rest_is_answered(string cluster, string reason)
    {
        const string sql = "SELECT _cluster, level, count(*) FROM web GROUP BY ALL ORDER BY ALL";
        var (status, body) = await QueryAsync(sql, $"local,{cluster},b");
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal(Oracle(sql), Rows(body));
        var federation = body.GetProperty("federation");
        Assert.Equal(["local", "b"], federation.GetProperty("scanned_clusters").EnumerateArray()
            .Select(c => c.GetString()!));
        Assert.Equal([cluster],
            federation.GetProperty("degraded_clusters").EnumerateArray().Select(c => c.GetString()!));
        Assert.Contains(reason, federation.GetProperty("degraded_reason").GetProperty(cluster).GetString());
    }

    [Fact]
    public async Task The_stream_endpoint_carries_the_federation_block_in_its_last_line()
    {
        using var resp = await fx.Local.Http.PostAsJsonAsync("/api/v1/query/stream?clusters=local,b,down",
            new { sql = "SELECT level FROM web" });
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        var lines = (await resp.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(FederationFixture.LocalRecords + FederationFixture.RemoteRecords, lines.Length - 2);
        var last = JsonDocument.Parse(lines[^1]).RootElement.GetProperty("federation");
        Assert.Equal(["down"], last.GetProperty("degraded_clusters").EnumerateArray().Select(c => c.GetString()!));
    }

    [Fact]
    public async Task An_async_job_runs_the_federated_statement()
    {
        const string sql = "SELECT _cluster, level, count(*) AS n FROM web GROUP BY ALL ORDER BY ALL";
        using var req = new HttpRequestMessage(HttpMethod.Post, "/api/v1/query?clusters=local,b")
        {
            Content = JsonContent.Create(new { sql }),
        };
        req.Headers.Add("Prefer", "respond-async");
        using var accepted = await fx.Local.Http.SendAsync(req);
        var job = JsonDocument.Parse(await accepted.Content.ReadAsStringAsync()).RootElement;
        Assert.True(accepted.StatusCode == HttpStatusCode.Accepted, job.ToString());
        var url = job.GetProperty("status_url").GetString()!;
        await Poll.UntilAsync(async () => (await AuthApi.SendAsync(fx.Local.Http, HttpMethod.Get, url))
            .GetProperty("state").GetString(), s => s == "done", TimeSpan.FromSeconds(60), "the job done");
        var lines = (await fx.Local.Http.GetStringAsync(url + "/result"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Select(r => new List<string?> { r.GetProperty("_cluster").GetString(), r.GetProperty("level").GetString(),
                r.GetProperty("n").GetInt64().ToString() })
            .ToList();
        Assert.Equal(Oracle(sql), lines);
    }

    [Fact]
    public async Task An_unknown_cluster_is_a_400_and_remote_clusters_are_validated()
    {
        // More refusals than the node has query slots (8): each gives its slot back, so queries still run.
        for (var i = 0; i < 9; i++)
        {
            var (status, body) = await QueryAsync("SELECT count(*) FROM web", "local,nowhere");
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal("unknown_cluster", body.GetProperty("error").GetString());
        }
        Assert.Equal(HttpStatusCode.OK, (await QueryAsync("SELECT count(*) FROM web", "local")).Status);
        object[] bad =
        [
            new { name = "local", advertise_addr = "127.0.0.1:1", token_secret_ref = "env:MS_FEDERATION_B_TOKEN" },
            new { name = "Bad Name", advertise_addr = "127.0.0.1:1", token_secret_ref = "env:MS_FEDERATION_B_TOKEN" },
            new { name = "x", advertise_addr = "http://127.0.0.1:1/", token_secret_ref = "env:MS_FEDERATION_B_TOKEN" },
            new { name = "x", advertise_addr = "127.0.0.1", token_secret_ref = "env:MS_FEDERATION_B_TOKEN" },
            new { name = "x", advertise_addr = "127.0.0.1:1", token_secret_ref = "ms_plain_token_value" },
            new { name = "x", advertise_addr = "127.0.0.1:1", token_secret_ref = "env:MS_CIPHER_KEY" },
        ];
        foreach (var b in bad)
            await AuthApi.SendAsync(fx.Local.Http, HttpMethod.Post, "/api/v1/remote_clusters", b,
                expect: HttpStatusCode.BadRequest);
        await AuthApi.SendAsync(fx.Local.Http, HttpMethod.Post, "/api/v1/remote_clusters",
            new { name = "b", advertise_addr = "127.0.0.1:1", token_secret_ref = "env:MS_FEDERATION_B_TOKEN" },
            expect: HttpStatusCode.Conflict);
        var list = await AuthApi.SendAsync(fx.Local.Http, HttpMethod.Get, "/api/v1/remote_clusters");
        var b0 = list.GetProperty("remote_clusters").EnumerateArray()
            .Single(c => c.GetProperty("name").GetString() == "b");
        Assert.Equal("env:MS_FEDERATION_B_TOKEN", b0.GetProperty("token_secret_ref").GetString());
        Assert.DoesNotContain(fx.RemoteToken, list.ToString());

        // Replaced, then deleted: the audit log holds both.
        await AuthApi.SendAsync(fx.Local.Http, HttpMethod.Put, "/api/v1/remote_clusters/spare",
            new { advertise_addr = "127.0.0.1:2", token_secret_ref = "cipher_keys:nope", enabled = false });
        await AuthApi.SendAsync(fx.Local.Http, HttpMethod.Delete, "/api/v1/remote_clusters/spare");
        await AuthApi.SendAsync(fx.Local.Http, HttpMethod.Delete, "/api/v1/remote_clusters/spare",
            expect: HttpStatusCode.NotFound);
        await Poll.UntilAsync(async () => (await AuthApi.SendAsync(fx.Local.Http, HttpMethod.Get,
                "/api/v1/audit?action=remote_cluster_delete")).ToString(),
            t => t.Contains("\"spare\"") && t.Contains("not_found"), TimeSpan.FromSeconds(20), "audited deletes");
    }

    [Fact]
    public async Task The_license_endpoint_shows_the_license_in_force()
    {
        var license = await AuthApi.SendAsync(fx.Local.Http, HttpMethod.Get, "/api/v1/license");
        Assert.True(license.GetProperty("valid").GetBoolean());
        Assert.Equal("MoleSignal tests", license.GetProperty("licensee").GetString());
        Assert.Equal([LicenseFeatures.FederatedSearch],
            license.GetProperty("features").EnumerateArray().Select(f => f.GetString()!));
        var remote = await AuthApi.SendAsync(fx.Remote.Http, HttpMethod.Get, "/api/v1/license");
        Assert.False(remote.GetProperty("valid").GetBoolean());
        Assert.Contains("MS_LICENSE_FILE", remote.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Scan_streams_arrow_of_the_callers_org_and_refuses_other_credentials()
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{fx.RemoteGrpcPort}");
        var client = new Scan.ScanClient(channel);
        var request = new StreamScanRequest { Stream = "web", Filter = "level = 'ERROR'" };
        request.Columns.Add("level");
        request.Columns.Add("_timestamp");
        var headers = new Grpc.Core.Metadata { { "authorization", "Bearer " + fx.RemoteToken } };
        long rows = 0;
        using (var call = client.Scan(request, headers))
        {
            await foreach (var chunk in call.ResponseStream.ReadAllAsync())
            {
                using var reader = new ArrowStreamReader(new MemoryStream(chunk.ArrowIpc.ToByteArray()));
                while (await reader.ReadNextRecordBatchAsync() is { } batch)
                    using (batch)
                    {
                        Assert.Equal(["level", "_timestamp"], batch.Schema.FieldsList.Select(f => f.Name));
                        rows += batch.Length;
                    }
                Assert.True(chunk.Rows > 0);
            }
        }
        var expected = long.Parse(Oracle("SELECT count(*) FROM web WHERE _cluster = 'b' AND level = 'ERROR'")[0][0]!);
        Assert.Equal(expected, rows);

        async Task<StatusCode> Refusal(Grpc.Core.Metadata? h, StreamScanRequest r)
        {
            var e = await Assert.ThrowsAsync<RpcException>(async () =>
            {
                using var call = client.Scan(r, h);
                await foreach (var _ in call.ResponseStream.ReadAllAsync()) { }
            });
            return e.StatusCode;
        }
        Assert.Equal(StatusCode.Unauthenticated, await Refusal(null, request));
        Assert.Equal(StatusCode.PermissionDenied, await Refusal(
            new Grpc.Core.Metadata { { "authorization", "Bearer " + fx.RemoteToken }, { "organization", "other" } },
            request));
        // The filter passes the same gate as any query: it may not read files or another org's streams.
        var files = new StreamScanRequest
        {
            Stream = "web", Filter = "(SELECT count(*) FROM read_csv('/etc/passwd')) > 0",
        };
        Assert.Equal(StatusCode.InvalidArgument, await Refusal(headers, files));
        var unknown = new StreamScanRequest { Stream = "nope" };
        Assert.Equal(StatusCode.InvalidArgument, await Refusal(headers, unknown));
    }

    /// <summary>Posts <paramref name="records"/> NDJSON records made by <paramref name="record"/> into a stream of
    /// b, in bodies of <paramref name="perBody"/>.</summary>
    private async Task IngestAsync(string stream, int records, int perBody, Action<StringBuilder, int> record)
    {
        for (var i = 0; i < records; i += perBody)
        {
            var body = new StringBuilder();
            for (var j = i; j < Math.Min(records, i + perBody); j++)
            {
                record(body, j);
                body.Append('\n');
            }
            using var resp = await fx.Remote.Http.PostAsync($"/api/v1/ingest/{stream}",
                new StringContent(body.ToString(), Encoding.UTF8, "application/x-ndjson"));
            Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        }
    }

    /// <summary>Reads a Scan of b's <paramref name="stream"/> with the default client limits (4 MiB messages),
    /// handing each batch to <paramref name="onBatch"/> and each chunk's size to <paramref name="onChunk"/>.
    /// </summary>
    private async Task ScanAsync(string stream, string[] columns, Action<Apache.Arrow.RecordBatch> onBatch,
        Func<int, Task> onChunk)
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{fx.RemoteGrpcPort}");
        var request = new StreamScanRequest { Stream = stream };
        request.Columns.AddRange(columns);
        using var call = new Scan.ScanClient(channel).Scan(request,
            new Grpc.Core.Metadata { { "authorization", "Bearer " + fx.RemoteToken } });
        await foreach (var chunk in call.ResponseStream.ReadAllAsync())
        {
            using var reader = new ArrowStreamReader(chunk.ArrowIpc.Memory);
            while (await reader.ReadNextRecordBatchAsync() is { } batch)
                using (batch)
                    onBatch(batch);
            await onChunk(chunk.ArrowIpc.Length);
        }
    }

    [Fact]
    public async Task Scan_cuts_batches_of_wide_rows_into_chunks_a_default_grpc_client_accepts()
    {
        // 3,000 records of 16 KiB: DuckDB hands out 2,048 rows (32 MiB) at a time, past any message limit.
        const int records = 3_000, width = 16 << 10;
        var payload = new string('p', width - 8);
        await IngestAsync("wide", records, 400, (b, j) => b.Append("{\"_timestamp\":").Append(1767225600000000L + j)
            .Append(",\"n\":").Append(j).Append(",\"payload\":\"").Append(j.ToString("D8")).Append(payload)
            .Append("\"}"));
        long rows = 0, sum = 0, largest = 0;
        await ScanAsync("wide", ["n", "payload"], batch =>
        {
            var n = (Apache.Arrow.Int64Array)batch.Column(0);
            var p = (Apache.Arrow.StringArray)batch.Column(1);
            for (var k = 0; k < batch.Length; k++)
            {
                sum += n.GetValue(k)!.Value;
                Assert.Equal(n.GetValue(k)!.Value.ToString("D8") + payload, p.GetString(k));
            }
            rows += batch.Length;
        }, size =>
        {
            largest = Math.Max(largest, size);
            return Task.CompletedTask;
        });
        Assert.Equal(records, rows);
        Assert.Equal((long)records * (records - 1) / 2, sum);
        Assert.True(largest < 4 << 20, $"a chunk of {largest} bytes");
    }

    [Fact]
    public async Task Scan_streams_in_flat_memory_to_a_client_that_reads_slowly()
    {
        // 480,000 log-shaped records (six text fields): about 1 GiB of Arrow.
        const int records = 480_000;
        var text = new string('t', 150);
        await IngestAsync("tall", records, 8_000, (b, j) =>
        {
            b.Append("{\"_timestamp\":").Append(1767225600000000L + j).Append(",\"n\":").Append(j);
            foreach (var f in "abcdef") b.Append(",\"").Append(f).Append("\":\"").Append(j).Append(text).Append('"');
            b.Append('}');
        });
        // The buffer flushed (a query copies buffered rows into its engine): what grows now is the scan's own.
        await Poll.UntilAsync(() => NodeMetrics.ValueAsync(fx.Remote.Http, "ingest_buffer_bytes"),
            b => b < 4 << 20, TimeSpan.FromSeconds(120), "the stream flushed");
        var process = fx.Remote.Process.Process;
        process.Refresh();
        var baseline = process.WorkingSet64;
        long peak = baseline, rows = 0, bytes = 0;
        await ScanAsync("tall", ["n", "a", "b", "c", "d", "e", "f"], batch => rows += batch.Length, async size =>
        {
            bytes += size;
            process.Refresh();
            peak = Math.Max(peak, process.WorkingSet64);
            await Task.Delay(10); // a slow reader: the server must wait, not buffer
        });
        Assert.Equal(records, rows);
        Assert.True(bytes > 1000L << 20, $"{bytes >> 20} MiB streamed");
        Assert.True(peak - baseline < 96L << 20,
            $"the remote grew {(peak - baseline) >> 20} MiB while streaming {bytes >> 20} MiB");
    }

    [Fact]
    public async Task Node_info_tells_id_roles_and_probes_to_a_principal()
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{fx.RemoteGrpcPort}");
        var info = await new Node.NodeClient(channel).InfoAsync(new NodeInfoRequest(),
            new Grpc.Core.Metadata { { "authorization", "Bearer " + fx.RemoteToken } });
        Assert.Equal(["standalone"], info.Roles);
        Assert.True(info.ReplayDone);
        Assert.False(info.ObjectStoreDegraded);
        Assert.Equal("standalone", info.Mode);
        Assert.False(string.IsNullOrEmpty(info.NodeId));
        Assert.Empty(info.Nodes); // not root
    }
}

/// <summary>Nodes whose license does not grant federation: remote targets are refused, local ones are not.</summary>
[Collection(ProcessCollection.Name)]
public sealed class FederationLicenseProcessTests
{
    [Theory]
    [InlineData("none")]
    [InlineData("tampered")]
    [InlineData("expired")]
    [InlineData("without the feature")]
    public async Task A_remote_target_needs_a_license_with_federated_search(string license)
    {
        using var dir = new TempDir("ms-federation-license");
        using var issuer = new TestLicense();
        var env = new Dictionary<string, string> { ["MS_LICENSE.TRUSTED_PUBLIC_KEYS"] = issuer.PublicKey };
        var now = DateTimeOffset.UtcNow;
        var good = TestLicense.Payload([LicenseFeatures.FederatedSearch], now.AddDays(-1), now.AddDays(1));
        string? file = license switch
        {
            "tampered" => issuer.File(TestLicense.Payload([LicenseFeatures.FederatedSearch], now.AddDays(-1),
                now.AddYears(5)), signed: good),
            "expired" => issuer.File(TestLicense.Payload([LicenseFeatures.FederatedSearch], now.AddDays(-3),
                now.AddDays(-1))),
            "without the feature" => issuer.Valid("sso"),
            _ => null,
        };
        if (file is not null)
        {
            File.WriteAllText(dir.Combine("license.json"), file);
            env["MS_LICENSE_FILE"] = dir.Combine("license.json");
        }
        using var node = MoleSignalNode.Start(env);
        await node.WaitHealthyAsync();
        await NodeQueries.IngestAsync(node.Http, "web", ["{\"level\":\"INFO\",\"message\":\"hello\"}"], 1);
        await AuthApi.SendAsync(node.Http, HttpMethod.Post, "/api/v1/remote_clusters",
            new { name = "b", advertise_addr = "127.0.0.1:1", token_secret_ref = "env:MS_FEDERATION_B" },
            expect: HttpStatusCode.Created);
        var sql = new { sql = "SELECT _cluster, count(*) FROM web GROUP BY 1" };
        foreach (var path in new[] { "/api/v1/query", "/api/v1/query/stream" })
        {
            using var refused = await node.Http.PostAsJsonAsync($"{path}?clusters=local,b", sql);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Contains("\"license_required\"", await refused.Content.ReadAsStringAsync());
        }
        using (var req = new HttpRequestMessage(HttpMethod.Post, "/api/v1/query?clusters=b")
               { Content = JsonContent.Create(sql) })
        {
            req.Headers.Add("Prefer", "respond-async");
            using var job = await node.Http.SendAsync(req);
            Assert.Equal(HttpStatusCode.Forbidden, job.StatusCode);
        }
        using var local = await node.Http.PostAsJsonAsync("/api/v1/query?clusters=local", sql);
        var text = await local.Content.ReadAsStringAsync();
        Assert.True(local.StatusCode == HttpStatusCode.OK, text);
        Assert.Contains("[[\"local\",1]]", text);
        var state = await AuthApi.SendAsync(node.Http, HttpMethod.Get, "/api/v1/license");
        Assert.Equal(license == "without the feature", state.GetProperty("valid").GetBoolean());
    }
}
