using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using MoleSignal.Tests.Processes;

namespace MoleSignal.Tests.Ingest.Syslog;

/// <summary>Syslog from util-linux's logger (RFC 5424 and 3164, TCP with both framings, UDP) into a running
/// node, and a sender whose framing breaks.</summary>
[Collection(ProcessCollection.Name)]
public sealed class SyslogListenerTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static async Task LoggerAsync(params string[] args)
    {
        using var logger = new ChildProcess("logger", args);
        Assert.True(await logger.WaitForExitAsync(TimeSpan.FromSeconds(30)) == 0, "logger: " + logger.Output);
    }

    // The rows once the stream has them all; before its first flush the stream does not exist yet.
    private static async Task<JsonElement> RowsAsync(MoleSignalNode node, string sql, int count) =>
        await Poll.UntilAsync(async () =>
        {
            try
            {
                return JsonDocument.Parse(await NodeQueries.SqlAsync(node.Http, sql)).RootElement.Clone();
            }
            catch (Xunit.Sdk.XunitException)
            {
                return default;
            }
        }, rows => rows.ValueKind == JsonValueKind.Array && rows.GetArrayLength() == count, Deadline,
            $"{count} syslog rows");

    [Fact]
    public async Task Messages_from_logger_over_tcp_and_udp_are_rows_and_bad_framing_closes_only_its_connection()
    {
        int tcp = Ports.Free(), udp = Ports.Free();
        using var node = MoleSignalNode.Start(new Dictionary<string, string>
        {
            ["MS_SYSLOG.BIND"] = "127.0.0.1",
            ["MS_SYSLOG.TCP_PORT"] = tcp.ToString(),
            ["MS_SYSLOG.UDP_PORT"] = udp.ToString(),
            ["MS_SYSLOG.MAX_MESSAGE_KB"] = "1",
            ["MS_INGESTER.FLUSH_INTERVAL_SECS"] = "1",
        });
        await node.WaitHealthyAsync();
        string[] remote(int port, string transport) =>
            ["--server", "127.0.0.1", "--port", port.ToString(), transport, "-t", "shop", "-p", "local0.warning"];

        await LoggerAsync([.. remote(tcp, "--tcp"), "--rfc5424", "--octet-count", "--msgid", "M1",
            "--sd-id", "order@32473", "--sd-param", "id=\"7\"", "tcp octet counted"]);
        await LoggerAsync([.. remote(tcp, "--tcp"), "--rfc5424", "--msgid", "M2", "tcp line framed"]);
        await LoggerAsync([.. remote(udp, "--udp"), "--rfc5424", "--msgid", "M3", "udp datagram"]);
        await LoggerAsync([.. remote(tcp, "--tcp"), "--rfc3164", "bsd style"]);

        // A frame longer than max_message_kb: the server closes that connection, and serves the next one.
        using (var bad = new TcpClient())
        {
            await bad.ConnectAsync("127.0.0.1", tcp);
            var stream = bad.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes("5000 <13>1 - - - - - - too long"));
            var buffer = new byte[16];
            int read;
            try
            {
                read = await stream.ReadAsync(buffer).AsTask().WaitAsync(Deadline);
            }
            catch (IOException)
            {
                read = 0; // reset by the peer is closed as well
            }
            Assert.Equal(0, read);
        }
        using (var good = new TcpClient())
        {
            await good.ConnectAsync("127.0.0.1", tcp);
            await good.GetStream().WriteAsync(Encoding.ASCII.GetBytes("<14>1 - raw app - RAW - after the bad one\n"));
        }

        var rows = await RowsAsync(node, "SELECT msg_id, message, facility, severity, app_name FROM syslog " +
                                         "ORDER BY message", 5);
        var byMessage = rows.EnumerateArray().ToDictionary(r => r[1].GetString()!);
        Assert.Equal(["after the bad one", "bsd style", "tcp line framed", "tcp octet counted", "udp datagram"],
            byMessage.Keys.Order().ToArray());
        foreach (var m in new[] { "tcp octet counted", "tcp line framed", "udp datagram", "bsd style" })
        {
            Assert.Equal(16, byMessage[m][2].GetInt64()); // local0
            Assert.Equal(4, byMessage[m][3].GetInt64()); // warning
            Assert.Equal("shop", byMessage[m][4].GetString());
        }
        Assert.Equal("M1", byMessage["tcp octet counted"][0].GetString());
        Assert.Equal("M3", byMessage["udp datagram"][0].GetString());
        Assert.Equal("RAW", byMessage["after the bad one"][0].GetString());
        Assert.Equal("[[\"7\"]]", await NodeQueries.SqlAsync(node.Http,
            "SELECT order_32473_id FROM syslog WHERE msg_id = 'M1'"));
        Assert.False(node.Process.HasExited);
    }
}
