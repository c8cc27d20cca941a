using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Google.Protobuf;
using MoleSignal.Prompb;
using MoleSignal.Tests.Processes;

namespace MoleSignal.Tests.Ingest.RemoteWrite;

/// <summary>Debian's prometheus scraping a node's own <c>/metrics</c> and remote-writing the samples to it.</summary>
[Collection(ProcessCollection.Name)]
public sealed class PrometheusRemoteWriteTests
{
    private static string PrometheusBinary() =>
        File.Exists("/usr/bin/prometheus")
            ? "/usr/bin/prometheus"
            : throw new InvalidOperationException("Debian's prometheus is not installed (.ci/run installs it)");

    [Fact]
    public async Task Samples_prometheus_scrapes_and_remote_writes_are_rows_of_a_stream_per_metric()
    {
        using var node = MoleSignalNode.Start();
        await node.WaitHealthyAsync();
        using var dir = new TempDir("ms-prometheus");
        var target = $"127.0.0.1:{node.HttpPort}";
        var auth = $"basic_auth: {{ username: \"{MoleSignalNode.RootEmail}\", " +
                   $"password: \"{MoleSignalNode.RootPassword}\" }}";
        var config = Path.Combine(dir.Path, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: molesignal
                {auth}
                static_configs: [{"{"} targets: ["{target}"] {"}"}]
            remote_write:
              - url: http://{target}/api/v1/prometheus/write
                {auth}
                queue_config: {"{"} batch_send_deadline: 1s, min_backoff: 100ms {"}"}
            """);
        using var prometheus = new ChildProcess(PrometheusBinary(), [$"--config.file={config}",
            $"--storage.tsdb.path={Path.Combine(dir.Path, "tsdb")}",
            $"--web.listen-address=127.0.0.1:{Ports.Free()}"], dir.Path);

        // `up` is Prometheus's own series for each scrape: 1 when it could read the target.
        // (A first scrape may time out while the node warms up: up = 0 for it.)
        const string upSql = "SELECT count(*) FILTER (WHERE value = 1) >= 3, bool_and(value IN (0, 1)), " +
                             "min(\"__name__\"), min(job), min(instance) FROM metrics.up";
        var up = await Poll.UntilAsync(() => NodeQueries.SqlAsync(node.Http, upSql),
            rows => rows.StartsWith("[[true,"), TimeSpan.FromMinutes(2), "three `up` samples written by prometheus");
        Assert.Equal($"[[true,true,\"up\",\"molesignal\",\"{target}\"]]", up);
        // The node's own metrics, scraped through its authenticated /metrics, come back as their own streams.
        var cpu = await Poll.UntilAsync(() => NodeQueries.SqlAsync(node.Http,
                "SELECT count(*) > 0, bool_and(value >= 0), min(job) FROM metrics.process_cpu_seconds_total"),
            rows => rows.StartsWith("[[true,"), TimeSpan.FromMinutes(1), "process_cpu_seconds_total rows");
        Assert.Equal("[[true,true,\"molesignal\"]]", cpu);
        Assert.False(prometheus.HasExited, prometheus.Output);
    }

    private static byte[] Write(params (string? Name, double Value)[] series)
    {
        var w = new WriteRequest();
        var ms = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        foreach (var (name, value) in series)
        {
            var ts = new TimeSeries { Samples = { new Sample { Value = value, Timestamp = ms } } };
            if (name is not null) ts.Labels.Add(new Label { Name = "__name__", Value = name });
            ts.Labels.Add(new Label { Name = "host", Value = "web-1" });
            w.Timeseries.Add(ts);
        }
        return w.ToByteArray();
    }

    [Fact]
    public async Task Bad_writes_get_a_json_4xx_and_write_nothing()
    {
        using var node = MoleSignalNode.Start();
        await node.WaitHealthyAsync();

        async Task<(HttpStatusCode Status, string Error)> Post(byte[] body, string type = "application/x-protobuf")
        {
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue(type);
            content.Headers.ContentEncoding.Add("snappy");
            using var resp = await node.Http.PostAsync("/api/v1/prometheus/write", content);
            var text = await resp.Content.ReadAsStringAsync();
            return (resp.StatusCode, resp.StatusCode == HttpStatusCode.NoContent
                ? ""
                : JsonDocument.Parse(text).RootElement.GetProperty("error").GetString()!);
        }

        var good = Write(("temperature", 21.5));
        Assert.Equal((HttpStatusCode.BadRequest, "bad_encoding"), await Post([0xff, 0xff, 0xff, 0xff, 0x0f, 1]));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_protobuf"),
            await Post(Snappier.Snappy.CompressToArray(good[..^3])));
        Assert.Equal((HttpStatusCode.UnsupportedMediaType, "unsupported_media_type"),
            await Post(Snappier.Snappy.CompressToArray(good), "application/json"));
        // A series without a metric name is refused; the others in the request are written.
        Assert.Equal((HttpStatusCode.BadRequest, "rejected"),
            await Post(Snappier.Snappy.CompressToArray(Write((null, 1), ("humidity", 40)))));

        Assert.Equal((HttpStatusCode.NoContent, ""), await Post(Snappier.Snappy.CompressToArray(good)));
        Assert.Equal("[[1,21.5,\"web-1\"]]", await NodeQueries.SqlAsync(node.Http,
            "SELECT count(*), min(value), min(host) FROM metrics.temperature"));
        Assert.Equal("[[1,40]]", await NodeQueries.SqlAsync(node.Http,
            "SELECT count(*), min(value) FROM metrics.humidity"));
    }
}
