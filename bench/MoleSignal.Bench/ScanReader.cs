using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using MoleSignal.Rpc.V1;

namespace MoleSignal.Bench;

/// <summary>
/// Reads a stream through a node's molesignal.v1 Scan service, as a federated query's coordinator does, and prints
/// the Arrow bytes and rows per second received (best of N rounds; the Arrow is not decoded).
///   MoleSignal.Bench scan http://127.0.0.1:GRPC_PORT STREAM USER:SECRET [rounds=3] [columns,comma-separated]
///     [filter]
/// </summary>
public static class ScanReader
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = args.Length > 4 ? int.Parse(args[4]) : 3;
        using var channel = GrpcChannel.ForAddress(args[1],
            new GrpcChannelOptions { MaxReceiveMessageSize = 64 << 20 });
        var client = new Scan.ScanClient(channel);
        var headers = new Metadata
        {
            { "authorization", "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(args[3])) },
        };
        double best = 0;
        long bytes = 0, rows = 0;
        for (var r = 0; r < rounds; r++)
        {
            bytes = rows = 0;
            var clock = Stopwatch.StartNew();
            var request = new StreamScanRequest { Stream = args[2] };
            if (args.Length > 5 && args[5] != "*") request.Columns.AddRange(args[5].Split(','));
            if (args.Length > 6) request.Filter = args[6];
            long batches = 0;
            using var call = client.Scan(request, headers);
            await foreach (var chunk in call.ResponseStream.ReadAllAsync())
            {
                bytes += chunk.ArrowIpc.Length;
                rows += chunk.Rows;
                batches++;
            }
            best = Math.Max(best, bytes / 1048576.0 / clock.Elapsed.TotalSeconds);
            Console.Error.WriteLine($"round {r}: {bytes >> 20} MiB, {rows} rows in " +
                                    $"{clock.Elapsed.TotalSeconds:F3} s, " +
                                    $"{batches} chunks");
        }
        Console.WriteLine($"scan {rows} rows, {bytes / 1048576.0:F0} MiB of Arrow: best {best:F0} MiB/s " +
                          $"({best * rows / (bytes / 1048576.0) / 1e3:F0} k rows/s)");
        return 0;
    }
}
