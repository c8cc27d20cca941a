using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using MoleSignal.Otlp;
using MoleSignal.Otlp.Logs;
using MoleSignal.Tests.Processes;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace MoleSignal.Tests.Ingest.Otlp;

/// <summary>The OpenTelemetry .NET SDK's OTLP exporter, over HTTP/protobuf and gRPC, against a running node.</summary>
[Collection(ProcessCollection.Name)]
public sealed class OtlpSdkTests
{
    private static string BasicValue =>
        "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(
            $"{MoleSignalNode.RootEmail}:{MoleSignalNode.RootPassword}"));

    private static (MoleSignalNode Node, int GrpcPort) Start()
    {
        var env = MoleSignalNode.DefaultEnv(freePorts: true);
        var node = MoleSignalNode.Start(env);
        return (node, int.Parse(env["MS_GRPC.PORT"]));
    }

    private static void Exporter(OtlpExporterOptions o, MoleSignalNode node, int grpcPort, bool grpc, string signal,
        string stream, string org = "default")
    {
        o.Protocol = grpc ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
        o.Endpoint = grpc
            ? new Uri($"http://127.0.0.1:{grpcPort}")
            : new Uri($"http://127.0.0.1:{node.HttpPort}/api/{(org == "default" ? "v1/otlp" : org)}/v1/{signal}");
        o.Headers = $"Authorization={BasicValue},stream-name={stream}" + (grpc ? $",organization={org}" : "");
    }

    private static Task<string> RowsAsync(MoleSignalNode node, string sql, string org = "default") =>
        NodeQueries.SqlAsync(node.Http, sql, org);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Logs_and_traces_exported_by_the_sdk_are_rows_with_their_fields(bool grpc)
    {
        var (node, grpcPort) = Start();
        using var _ = node;
        await node.WaitHealthyAsync();
        var org = grpc ? "otelorg" : "default";
        var resource = ResourceBuilder.CreateEmpty().AddService("checkout", serviceVersion: "1.2.3");
        using var source = new ActivitySource("otlp-test");
        string traceId;
        using (var tracing = Sdk.CreateTracerProviderBuilder().AddSource("otlp-test").SetResourceBuilder(resource)
                   .AddOtlpExporter(o => Exporter(o, node, grpcPort, grpc, "traces", "spans", org)).Build())
        using (var logging = LoggerFactory.Create(b => b.AddOpenTelemetry(o =>
               {
                   o.SetResourceBuilder(resource);
                   o.IncludeFormattedMessage = true;
                   o.AddOtlpExporter(e => Exporter(e, node, grpcPort, grpc, "logs", "applogs", org));
               })))
        {
            var logger = logging.CreateLogger("shop");
            using (var root = source.StartActivity("checkout", ActivityKind.Server)!)
            {
                traceId = root.TraceId.ToHexString();
                root.SetTag("http.route", "/cart");
                for (var i = 0; i < 3; i++)
                    using (var child = source.StartActivity("db.query", ActivityKind.Client)!)
                        child.SetTag("db.rows", i);
                root.AddEvent(new ActivityEvent("paid"));
                root.SetStatus(ActivityStatusCode.Error, "card declined");
                logger.LogWarning("order {OrderId} failed for {City}", 7, "Lyon");
            }
            for (var i = 0; i < 40; i++) logger.LogInformation("order {OrderId} shipped to {City}", i, "Paris");
            Assert.True(tracing.ForceFlush(10_000));
        }

        Assert.Equal("[[41,40,40]]", await RowsAsync(node,
            "SELECT count(*), count(DISTINCT orderid), count(*) FILTER (WHERE city = 'Paris') FROM applogs", org));
        Assert.Equal($"[[\"order 7 failed for Lyon\",13,\"{traceId}\",\"checkout\",\"1.2.3\"]]", await RowsAsync(node,
            "SELECT body, severity_number, trace_id, service_name, service_version FROM applogs WHERE city = 'Lyon'",
            org));

        Assert.Equal("[[4,1]]", await RowsAsync(node,
            $"SELECT count(*), count(DISTINCT trace_id) FROM traces.spans WHERE trace_id = '{traceId}'", org));
        Assert.Equal("[[\"server\",\"error\",\"card declined\",\"/cart\",true,true]]", await RowsAsync(node,
            "SELECT kind, status_code, status_message, http_route, duration >= 0, events LIKE '%paid%' " +
            "FROM traces.spans WHERE name = 'checkout'", org));
        Assert.Equal("[[3,3,\"client\"]]", await RowsAsync(node,
            "SELECT count(*), count(DISTINCT db_rows), min(kind) FROM traces.spans WHERE name = 'db.query' " +
            "AND parent_span_id = (SELECT span_id FROM traces.spans WHERE name = 'checkout')", org));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Metrics_exported_by_the_sdk_are_one_row_per_data_point(bool grpc)
    {
        var (node, grpcPort) = Start();
        using var _ = node;
        await node.WaitHealthyAsync();
        using var meter = new Meter("otlp-test");
        var orders = meter.CreateCounter<long>("orders");
        var latency = meter.CreateHistogram<double>("latency", unit: "ms");
        using (var metrics = Sdk.CreateMeterProviderBuilder().AddMeter("otlp-test")
                   .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("checkout"))
                   .AddOtlpExporter((o, reader) =>
                   {
                       Exporter(o, node, grpcPort, grpc, "metrics", "appmetrics");
                       reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 3_600_000;
                   }).Build())
        {
            for (var i = 0; i < 10; i++)
                orders.Add(1, new KeyValuePair<string, object?>("city", i < 6 ? "Paris" : "Lyon"));
            foreach (var ms in new[] { 3.0, 7.0, 12.0, 40.0, 400.0 }) latency.Record(ms);
            Assert.True(metrics.ForceFlush(10_000));
        }

        // Cumulative points: each export repeats the totals, so the newest row of each series is compared.
        Assert.Equal("[[\"Lyon\",\"sum\",4,true,\"cumulative\"],[\"Paris\",\"sum\",6,true,\"cumulative\"]]",
            await RowsAsync(node, "SELECT city, type, max(value), bool_and(is_monotonic), min(temporality) " +
                                  "FROM metrics.appmetrics WHERE name = 'orders' GROUP BY city, type ORDER BY city"));
        Assert.Equal("[[\"histogram\",5,462,3,400,\"ms\",\"checkout\",true]]", await RowsAsync(node,
            "SELECT type, max(count), max(sum), min(min), max(max), min(unit), min(service_name), " +
            "bool_and(buckets LIKE '{\"bounds\":[%') FROM metrics.appmetrics WHERE name = 'latency' GROUP BY type"));
    }

    [Fact]
    public async Task Bad_otlp_bodies_get_a_status_in_otlps_shape_and_write_nothing()
    {
        var (node, _) = Start();
        using var __ = node;
        await node.WaitHealthyAsync();
        var good = new ExportLogsServiceRequest
        {
            ResourceLogs =
            {
                new ResourceLogs
                {
                    ScopeLogs =
                    {
                        new ScopeLogs
                        {
                            LogRecords =
                            {
                                new MoleSignal.Otlp.Logs.LogRecord
                                {
                                    Body = new MoleSignal.Otlp.Common.AnyValue { StringValue = "kept" },
                                },
                            },
                        },
                    },
                },
            },
        }.ToByteArray();

        async Task<(HttpStatusCode, RpcStatus?)> Post(byte[] body, string type = "application/x-protobuf",
            string? encoding = null)
        {
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue(type);
            if (encoding is not null) content.Headers.ContentEncoding.Add(encoding);
            using var req = new HttpRequestMessage(System.Net.Http.HttpMethod.Post, "/api/v1/otlp/v1/logs")
            {
                Content = content,
            };
            req.Headers.Add("stream-name", "badotlp");
            using var resp = await node.Http.SendAsync(req);
            var bytes = await resp.Content.ReadAsByteArrayAsync();
            return (resp.StatusCode, resp.IsSuccessStatusCode ? null : RpcStatus.Parser.ParseFrom(bytes));
        }

        var (status, rpc) = await Post(good[..^3]); // truncated
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(3, rpc!.Code);
        Assert.Contains("not an OTLP logs export request", rpc.Message);
        (status, rpc) = await Post(good, "text/plain");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
        // A gzip header, then a deflate block of the reserved type 3.
        (status, rpc) = await Post([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff], encoding: "gzip");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(3, rpc!.Code);
        // Invalid UTF-8 in a string field is refused by the protobuf parser: the whole body.
        var invalid = (byte[])good.Clone();
        invalid[Array.IndexOf(invalid, (byte)'k')] = 0xff;
        (status, _) = await Post(invalid);
        Assert.Equal(HttpStatusCode.BadRequest, status);

        (status, _) = await Post(good);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("[[\"kept\"]]", await RowsAsync(node, "SELECT body FROM badotlp"));
    }

    [Fact]
    public async Task Bad_otlp_grpc_messages_get_invalid_argument_or_resource_exhausted_and_write_nothing()
    {
        var env = MoleSignalNode.DefaultEnv(freePorts: true);
        env["MS_GRPC.MAX_MESSAGE_SIZE_MB"] = "1";
        using var node = MoleSignalNode.Start(env);
        await node.WaitHealthyAsync();
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{env["MS_GRPC.PORT"]}");
        var bytes = Marshallers.Create<byte[]>(b => b, b => b);
        var method = new Method<byte[], byte[]>(MethodType.Unary, "opentelemetry.proto.collector.logs.v1.LogsService",
            "Export", bytes, bytes);
        Task<byte[]> Export(byte[] message) => channel.CreateCallInvoker().AsyncUnaryCall(method, null,
            new CallOptions(new Grpc.Core.Metadata { { "authorization", BasicValue }, { "stream-name", "badgrpc" } }),
            message).ResponseAsync;
        async Task<RpcException> Refused(byte[] message) =>
            await Assert.ThrowsAsync<RpcException>(() => Export(message));
        byte[] Logs(string body, int records = 1)
        {
            var scope = new ScopeLogs();
            for (var i = 0; i < records; i++)
                scope.LogRecords.Add(new MoleSignal.Otlp.Logs.LogRecord
                {
                    Body = new MoleSignal.Otlp.Common.AnyValue { StringValue = body },
                });
            return new ExportLogsServiceRequest { ResourceLogs = { new ResourceLogs { ScopeLogs = { scope } } } }
                .ToByteArray();
        }

        var good = Logs("kept");
        var truncated = await Refused(good[..^3]);
        Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, truncated.StatusCode);
        Assert.Contains("not an OTLP logs export request", truncated.Status.Detail);
        var invalid = (byte[])good.Clone();
        invalid[Array.IndexOf(invalid, (byte)'k')] = 0xff;
        Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, (await Refused(invalid)).StatusCode);
        // 1,100 records of 1 KB: over the 1 MiB limit, refused before it is read.
        var oversized = await Refused(Logs(new string('x', 1000), 1100));
        Assert.Equal(Grpc.Core.StatusCode.ResourceExhausted, oversized.StatusCode);

        Assert.Empty(await Export(good)); // an empty export response: no partial success
        Assert.Equal("[[\"kept\"]]", await RowsAsync(node, "SELECT body FROM badgrpc"));
    }
}
