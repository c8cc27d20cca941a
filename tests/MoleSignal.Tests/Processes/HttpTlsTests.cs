using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Health.V1;
using Grpc.Net.Client;
using MoleSignal.Tests.Support;

namespace MoleSignal.Tests.Processes;

/// <summary>
/// HTTPS and gRPC over TLS from certificate files: a CA and certificates made here, a client that trusts only that
/// CA and checks host names, SNI, the plain port's redirect, and a renewed certificate served without a restart.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class HttpTlsTests : IDisposable
{
    private readonly TempDir _dir = new("ms-tls");
    private readonly TestCa _authority = new();
    private X509Certificate2 Ca => _authority.Certificate;

    public void Dispose()
    {
        _authority.Dispose();
        _dir.Dispose();
    }

    private string Issue(string dns, string certPath, string keyPath) => _authority.Issue(dns, certPath, keyPath);

    /// <summary>A handler that trusts only the test CA and connects every host name to 127.0.0.1.</summary>
    private SocketsHttpHandler Handler(Action<X509Certificate2>? seen = null) => new()
    {
        AllowAutoRedirect = false,
        ConnectCallback = async (ctx, ct) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(IPAddress.Loopback, ctx.DnsEndPoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        },
        SslOptions = new SslClientAuthenticationOptions
        {
            CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                CustomTrustStore = { Ca },
                RevocationMode = X509RevocationMode.NoCheck,
            },
            RemoteCertificateValidationCallback = (_, cert, _, errors) =>
            {
                if (cert is not null) seen?.Invoke(new X509Certificate2(cert));
                return errors == SslPolicyErrors.None;
            },
        },
    };

    [Fact]
    public async Task Https_and_grpc_serve_the_files_certificates_by_sni_redirect_plain_http_and_follow_a_renewal()
    {
        var (cert, key) = (_dir.Combine("localhost.pem"), _dir.Combine("localhost-key.pem"));
        var (other, otherKey) = (_dir.Combine("other.pem"), _dir.Combine("other-key.pem"));
        var first = Issue("localhost", cert, key);
        var otherSerial = Issue("other.test", other, otherKey);
        var config = _dir.Combine("config.toml");
        File.WriteAllText(config, $"""
            [http.tls]
            enabled = true
            cert_file = "{cert}"
            key_file = "{key}"

            [[http.tls.certs]]
            cert_file = "{other}"
            key_file = "{otherKey}"
            """);
        var env = MoleSignalNode.DefaultEnv(freePorts: true);
        var tlsPort = Ports.Free();
        var plainPort = Ports.Free();
        env["MS_HTTP.TLS.PORT"] = tlsPort.ToString();
        env["MS_HTTP.TLS.PLAIN_PORT"] = plainPort.ToString();
        env["MS_HTTP.PORT"] = plainPort.ToString(); // MoleSignalNode's probe client speaks plain HTTP to the plain port
        using var node = MoleSignalNode.Start(env, ["--config", config]);
        await node.WaitHealthyAsync();

        X509Certificate2? served = null;
        using (var https = new HttpClient(Handler(c => served = c)) { BaseAddress = new Uri($"https://localhost:{tlsPort}") })
        {
            https.DefaultRequestHeaders.Authorization = MoleSignalNode.RootAuth;
            using var streams = await https.GetAsync("/api/v1/streams");
            Assert.Equal(HttpStatusCode.OK, streams.StatusCode);
            Assert.Equal(first, served!.SerialNumber);
        }
        // SNI: another name gets its own certificate
        using (var sni = new HttpClient(Handler(c => served = c)) { BaseAddress = new Uri($"https://other.test:{tlsPort}") })
            Assert.Equal(HttpStatusCode.OK, (await sni.GetAsync("/healthz")).StatusCode);
        Assert.Equal(otherSerial, served!.SerialNumber);
        // a name no certificate holds fails verification (the default certificate is served)
        using (var wrong = new HttpClient(Handler()) { BaseAddress = new Uri($"https://wrong.example:{tlsPort}") })
            await Assert.ThrowsAsync<HttpRequestException>(() => wrong.GetAsync("/healthz"));

        // the plain port: probes answer, the rest is redirected to HTTPS
        using (var plain = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri($"http://localhost:{plainPort}") })
        {
            Assert.Equal(HttpStatusCode.OK, (await plain.GetAsync("/readyz")).StatusCode);
            using var moved = await plain.GetAsync("/api/v1/streams?type=logs");
            Assert.Equal(HttpStatusCode.MovedPermanently, moved.StatusCode);
            Assert.Equal($"https://localhost:{tlsPort}/api/v1/streams?type=logs", moved.Headers.Location!.ToString());
        }

        // gRPC over TLS with the same certificates
        using (var channel = GrpcChannel.ForAddress($"https://localhost:{env["MS_GRPC.PORT"]}", new GrpcChannelOptions { HttpHandler = Handler() }))
            Assert.NotNull(await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest()));

        // a renewal: new files, served by new connections without a restart
        var renewed = Issue("localhost", cert, key);
        await Poll.UntilAsync(async () =>
        {
            using var https = new HttpClient(Handler(c => served = c)) { BaseAddress = new Uri($"https://localhost:{tlsPort}") };
            using var r = await https.GetAsync("/healthz");
            return served!.SerialNumber;
        }, s => s == renewed, TimeSpan.FromSeconds(30), "the renewed certificate served");
        Assert.False(node.Process.HasExited);
    }

    [Fact]
    public async Task Tls_without_certificate_files_that_load_stops_startup()
    {
        var env = MoleSignalNode.DefaultEnv(freePorts: true);
        env["MS_HTTP.TLS.ENABLED"] = "true";
        env["MS_HTTP.TLS.PORT"] = Ports.Free().ToString();
        env["MS_HTTP.TLS.PLAIN_PORT"] = Ports.Free().ToString();
        var (code, output) = await MoleSignalNode.RunToExitAsync(env);
        Assert.Equal(2, code);
        Assert.Contains("http.tls.cert_file", output);
        env["MS_HTTP.TLS.CERT_FILE"] = _dir.Combine("missing.pem");
        env["MS_HTTP.TLS.KEY_FILE"] = _dir.Combine("missing-key.pem");
        (code, output) = await MoleSignalNode.RunToExitAsync(env);
        Assert.Equal(2, code);
        Assert.Contains("does not load", output);
    }
}
