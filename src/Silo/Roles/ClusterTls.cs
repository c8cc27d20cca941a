using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using MoleSignal.Silo.Config;
using Orleans.Connections.Security;

namespace MoleSignal.Silo.Roles;

/// <summary>
/// Mutual TLS between silos with Orleans' own TLS support: each node's certificate authenticates it as server
/// and as client, and a peer is accepted only with a certificate that chains to the configured CA. A silo
/// without a valid certificate cannot join the cluster or call a grain.
/// </summary>
public static class ClusterTls
{
    public static void Use(ISiloBuilder silo, ClusterSection c)
    {
        if (!c.TlsEnabled) return;
        var cert = X509Certificate2.CreateFromPemFile(c.TlsCertFile, c.TlsKeyFile);
        // An ephemeral key cannot be used by SslStream on every platform: round-trip it through PKCS#12.
        cert = X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
        var ca = c.TlsCaFile == "" ? null : X509CertificateLoader.LoadCertificateFromFile(c.TlsCaFile);
        silo.UseTls(cert, o =>
        {
            o.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
            o.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
            o.CheckCertificateRevocation = false;
            o.RemoteCertificateValidation = (remote, _, _) => Trusted(remote, ca);
            // Silos are addressed by IP: the name check is replaced by the chain check above.
            o.OnAuthenticateAsClient = (_, ssl) => ssl.TargetHost = cert.GetNameInfo(X509NameType.SimpleName, false);
        });
    }

    /// <summary>The peer's certificate chains to <paramref name="ca"/> (or to a system root without one).</summary>
    private static bool Trusted(X509Certificate2? remote, X509Certificate2? ca)
    {
        if (remote is null) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (ca is not null)
        {
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
        }
        return chain.Build(remote);
    }
}
