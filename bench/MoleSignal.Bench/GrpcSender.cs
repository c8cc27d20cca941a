using Grpc.Core;
using Grpc.Net.Client;

namespace MoleSignal.Bench;

/// <summary>
/// An OTLP/gRPC client for bench/protocols.sh: each file of a folder (an ExportLogsServiceRequest's bytes, from
/// <c>convert otlp</c>) sent as one Export call on one HTTP/2 channel, N calls in flight (like a Collector's
/// exporter queue), UNAVAILABLE and RESOURCE_EXHAUSTED retried. The bytes go out as they are: no client-side
/// encoding is timed, as curl sends the other paths' files.
///   MoleSignal.Bench grpc-send http://127.0.0.1:PORT DIR CLIENTS USER:TOKEN
/// </summary>
public static class GrpcSender
{
    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(b => b, b => b);

    private static readonly Method<byte[], byte[]> Export = new(MethodType.Unary,
        "opentelemetry.proto.collector.logs.v1.LogsService", "Export", Bytes, Bytes);

    public static async Task<int> RunAsync(string[] args)
    {
        var files = new Queue<string>(Directory.GetFiles(args[2]).Where(f => !Path.GetFileName(f).StartsWith('.'))
            .Order());
        var clients = int.Parse(args[3]);
        var headers = new Metadata
        {
            { "authorization", "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(args[4])) },
            { "stream-name", "bench" },
        };
        using var channel = GrpcChannel.ForAddress(args[1], new GrpcChannelOptions
        {
            MaxSendMessageSize = 64 << 20, MaxReceiveMessageSize = 64 << 20,
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
        });
        var invoker = channel.CreateCallInvoker();
        var failed = 0;
        async Task Worker()
        {
            while (true)
            {
                string file;
                lock (files)
                {
                    if (!files.TryDequeue(out file!)) return;
                }
                var body = await File.ReadAllBytesAsync(file);
                while (true)
                {
                    try
                    {
                        var answer = await invoker.AsyncUnaryCall(Export, null, new CallOptions(headers), body);
                        if (answer.Length == 0) break;
                        Console.Error.WriteLine($"{file}: partial success ({answer.Length} bytes)");
                        Interlocked.Increment(ref failed);
                        break;
                    }
                    catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable
                                                     or StatusCode.ResourceExhausted)
                    {
                        await Task.Delay(200);
                    }
                    catch (RpcException e)
                    {
                        Console.Error.WriteLine($"{file}: {e.Status}");
                        Interlocked.Increment(ref failed);
                        break;
                    }
                }
            }
        }
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(Worker)));
        return failed == 0 ? 0 : 1;
    }
}
