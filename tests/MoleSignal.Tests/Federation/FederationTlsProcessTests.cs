using System.Net;
using System.Net.Http.Json;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Tests.Processes;

namespace MoleSignal.Tests.Federation;

/// <summary>
/// A remote cluster serving gRPC over TLS with a certificate for "localhost" from a test CA; the coordinator trusts
/// that CA (as its system store, through SSL_CERT_FILE). <c>tls_verify: true</c> dials https and verifies: the
/// right name is scanned, another name is refused; <c>false</c> dials plain http, which a TLS port refuses.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class FederationTlsProcessTests
{
    [Fact]
    public async Task Tls_verify_dials_https_and_checks_the_certificate_false_dials_plain_http()
    {
        using var dir = new TempDir("ms-federation-tls");
        using var ca = new TestCa();
        using var issuer = new TestLicense();
        ca.Issue("localhost", dir.Combine("cert.pem"), dir.Combine("key.pem"));
        File.WriteAllText(dir.Combine("ca.pem"), ca.Certificate.ExportCertificatePem());
        File.WriteAllText(dir.Combine("config.toml"), $"""
            [http.tls]
            enabled = true
            cert_file = "{dir.Combine("cert.pem")}"
            key_file = "{dir.Combine("key.pem")}"
            """);
        var remoteEnv = MoleSignalNode.DefaultEnv(freePorts: true);
        var tlsPort = Ports.Free();
        remoteEnv["MS_HTTP.TLS.PORT"] = tlsPort.ToString();
        remoteEnv["MS_HTTP.TLS.PLAIN_PORT"] = remoteEnv["MS_HTTP.PORT"];
        Directory.CreateDirectory(dir.Combine("remote"));
        using var remote = MoleSignalNode.Start(remoteEnv, ["--config", dir.Combine("config.toml")],
            dir.Combine("remote"));
        await remote.WaitHealthyAsync();
        using var https = new HttpClient(Trusting(ca.Certificate))
        {
            BaseAddress = new Uri($"https://localhost:{tlsPort}"),
        };
        https.DefaultRequestHeaders.Authorization = MoleSignalNode.RootAuth;
        var (_, token) = await AuthApi.ServiceTokenAsync(https, "default", "viewer");
        await NodeQueries.IngestAsync(https, "web", ["{\"level\":\"INFO\"}", "{\"level\":\"WARN\"}"], 2);

        File.WriteAllText(dir.Combine("license.json"), issuer.Valid(LicenseFeatures.FederatedSearch));
        Directory.CreateDirectory(dir.Combine("local"));
        using var local = MoleSignalNode.Start(new Dictionary<string, string>
        {
            ["MS_LICENSE_FILE"] = dir.Combine("license.json"),
            ["MS_LICENSE.TRUSTED_PUBLIC_KEYS"] = issuer.PublicKey,
            ["MS_FEDERATION_TOKEN"] = token,
            ["MS_FEDERATION.REMOTE_TIMEOUT_SECS"] = "5",
            ["SSL_CERT_FILE"] = dir.Combine("ca.pem"),
        }, workDir: dir.Combine("local"));
        await local.WaitHealthyAsync();
        await NodeQueries.IngestAsync(local.Http, "web", ["{\"level\":\"INFO\"}"], 1);
        var grpc = remoteEnv["MS_GRPC.PORT"];
        foreach (var (name, address, verify) in new[]
                 {
                     ("tls", $"localhost:{grpc}", true), ("wrong-name", $"127.0.0.1:{grpc}", true),
                     ("plain", $"localhost:{grpc}", false),
                 })
            await AuthApi.SendAsync(local.Http, HttpMethod.Post, "/api/v1/remote_clusters", new
            {
                name, advertise_addr = address, token_secret_ref = "env:MS_FEDERATION_TOKEN", tls_verify = verify,
            }, expect: HttpStatusCode.Created);

        using var resp = await local.Http.PostAsJsonAsync("/api/v1/query?clusters=local,tls,wrong-name,plain",
            new { sql = "SELECT _cluster, count(*) FROM web GROUP BY 1 ORDER BY 1" });
        var body = JsonDocument.Parse(await resp.Content.ReadAsStringAsync()).RootElement;
        Assert.True(resp.StatusCode == HttpStatusCode.OK, body.ToString());
        Assert.Equal("[[\"local\",1],[\"tls\",2]]", body.GetProperty("rows").GetRawText());
        var federation = body.GetProperty("federation");
        Assert.Equal(["local", "tls"], federation.GetProperty("scanned_clusters").EnumerateArray()
            .Select(c => c.GetString()!));
        Assert.Equal(["plain", "wrong-name"], federation.GetProperty("degraded_clusters").EnumerateArray()
            .Select(c => c.GetString()!).Order());
    }

    /// <summary>Trusts only <paramref name="ca"/>, connecting every host name to 127.0.0.1.</summary>
    private static SocketsHttpHandler Trusting(X509Certificate2 ca) => new()
    {
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
                TrustMode = X509ChainTrustMode.CustomRootTrust, CustomTrustStore = { ca },
                RevocationMode = X509RevocationMode.NoCheck,
            },
        },
    };
}
