using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace MoleSignal.Tests.Processes;

/// <summary>Silo-to-silo traffic over mutual TLS: certificates from a private CA, a two-node cluster across it.</summary>
[Collection(ProcessCollection.Name)]
public sealed class ClusterTlsTests(PostgresServer pg) : IClassFixture<PostgresServer>
{
    [Fact]
    public async Task Nodes_with_certificates_of_the_cluster_ca_form_one_cluster_and_serve_across_it()
    {
        using var dir = new TempDir("ms-tls");
        using var caKey = RSA.Create(2048);
        var caReq = new CertificateRequest("CN=molesignal-test-ca", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caReq.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caReq.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        using var ca = caReq.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-2), DateTimeOffset.UtcNow.AddDays(30));
        File.WriteAllText(dir.Combine("ca.pem"), ca.ExportCertificatePem());
        (string Cert, string Key) Leaf(string name)
        {
            using var key = RSA.Create(2048);
            var req = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
                [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false)); // server and client
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            san.AddDnsName(name);
            req.CertificateExtensions.Add(san.Build());
            using var cert = req.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7), RandomNumberGenerator.GetBytes(8));
            var paths = (dir.Combine(name + ".crt"), dir.Combine(name + ".key"));
            File.WriteAllText(paths.Item1, cert.ExportCertificatePem());
            File.WriteAllText(paths.Item2, key.ExportPkcs8PrivateKeyPem());
            return paths;
        }
        var db = await pg.CreateDatabaseAsync();
        Dictionary<string, string> Env(string id, string roles)
        {
            var (cert, key) = Leaf(id);
            return new()
            {
                ["MS_STORE.META.BACKEND"] = "postgres",
                ["MS_STORE.META.DSN"] = pg.Dsn(db),
                ["MS_STORE.OBJECT.ROOT"] = dir.Combine("objects"),
                ["MS_NODE.ID"] = id,
                ["MS_NODE.ROLES"] = roles,
                ["MS_CLUSTER.HEARTBEAT_INTERVAL_SECS"] = "1",
                ["MS_CLUSTER.TLS_ENABLED"] = "true",
                ["MS_CLUSTER.TLS_CERT_FILE"] = cert,
                ["MS_CLUSTER.TLS_KEY_FILE"] = key,
                ["MS_CLUSTER.TLS_CA_FILE"] = dir.Combine("ca.pem"),
            };
        }
        using var ingester = MoleSignalNode.Start(Env("tls-ingester", "ingester,querier"));
        await ingester.WaitHealthyAsync();
        using var router = MoleSignalNode.Start(Env("tls-router", "router"));
        await router.WaitHealthyAsync();
        await Poll.UntilAsync(() => router.Http.GetFromJsonAsync<JsonElement>("/api/v1/cluster/nodes"),
            v => v.GetProperty("orleans").GetArrayLength() == 2, TimeSpan.FromSeconds(60), "both silos in Orleans membership");
        // The router hosts no stream: the append crosses the TLS connection to the ingester, and so does the query.
        var resp = await Poll.UntilAsync(async () =>
        {
            using var r = await router.Http.PostAsync("/api/v1/ingest/app", new StringContent("{\"message\": \"over tls\"}", Encoding.UTF8, "application/json"));
            return r.StatusCode;
        }, s => s == HttpStatusCode.OK, TimeSpan.FromSeconds(60), "an ingest through the router");
        Assert.Equal(HttpStatusCode.OK, resp);
        Assert.Equal(1, await NodeQueries.RecordsAsync(router.Http, "app"));

        // A node whose certificate comes from another CA is refused by every peer: it never joins the cluster
        // (its silo stops), and the cluster's membership keeps the two nodes that trust each other.
        var rogueEnv = Env("tls-rogue", "router");
        using (var otherKey = RSA.Create(2048))
        {
            var otherReq = new CertificateRequest("CN=tls-rogue", otherKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var selfSigned = otherReq.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
            File.WriteAllText(rogueEnv["MS_CLUSTER.TLS_CERT_FILE"], selfSigned.ExportCertificatePem());
            File.WriteAllText(rogueEnv["MS_CLUSTER.TLS_KEY_FILE"], otherKey.ExportPkcs8PrivateKeyPem());
        }
        using var rogue = MoleSignalNode.Start(rogueEnv);
        await rogue.Process.WaitForExitAsync(TimeSpan.FromSeconds(120));
        Assert.True(rogue.Process.HasExited, "a node with an untrusted certificate stops");
        var members = await router.Http.GetFromJsonAsync<JsonElement>("/api/v1/cluster/nodes");
        Assert.DoesNotContain("tls-rogue", members.GetProperty("orleans").GetRawText());
    }
}
