using System.Security.Cryptography.X509Certificates;
using MoleSignal.Silo.Config;

namespace MoleSignal.Silo.Tls;

/// <summary>
/// The HTTPS and gRPC certificates from PEM files: the default one and more picked by SNI from their DNS names
/// (exact or one-level wildcard). The files are checked every few seconds and re-read when they change, so a
/// renewal (cert-manager writing new files) is served by new connections without a restart; a file that does not
/// load keeps the certificate before it and says why in the log.
/// </summary>
public sealed class CertificateFiles : IDisposable
{
    private static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(2);

    private sealed record Loaded(X509Certificate2 Certificate, string[] Names, DateTime CertWritten, DateTime KeyWritten);

    private readonly TlsCertFiles[] _files;
    private readonly Loaded[] _loaded;
    private readonly Timer _timer;

    public CertificateFiles(HttpTlsSection tls)
    {
        _files = [new TlsCertFiles { CertFile = tls.CertFile, KeyFile = tls.KeyFile }, .. tls.Certs];
        _loaded = _files.Select(Load).ToArray();
        _timer = new Timer(_ => Refresh(), null, CheckEvery, CheckEvery);
    }

    public ILogger? Log { get; set; }

    /// <summary>The certificate for an SNI host name; the default one for none or an unknown name.</summary>
    public X509Certificate2 Select(string? hostName)
    {
        if (!string.IsNullOrEmpty(hostName))
            for (var i = 1; i < _loaded.Length; i++)
                if (Matches(Volatile.Read(ref _loaded[i]).Names, hostName)) return _loaded[i].Certificate;
        return Volatile.Read(ref _loaded[0]).Certificate;
    }

    private static bool Matches(string[] names, string host)
    {
        foreach (var n in names)
        {
            if (string.Equals(n, host, StringComparison.OrdinalIgnoreCase)) return true;
            if (n.StartsWith("*.", StringComparison.Ordinal) && host.IndexOf('.') is var dot and > 0
                && string.Equals(n[1..], host[dot..], StringComparison.OrdinalIgnoreCase))
                return true;
        }
        return false;
    }

    private static Loaded Load(TlsCertFiles f)
    {
        var certWritten = File.GetLastWriteTimeUtc(f.CertFile);
        var keyWritten = File.GetLastWriteTimeUtc(f.KeyFile);
        var cert = X509Certificate2.CreateFromPemFile(f.CertFile, f.KeyFile);
        if (!cert.HasPrivateKey) throw new InvalidDataException($"{f.KeyFile} holds no private key for {f.CertFile}");
        var names = new List<string>();
        foreach (var ext in cert.Extensions)
            if (ext is X509SubjectAlternativeNameExtension san)
                names.AddRange(san.EnumerateDnsNames());
        if (names.Count == 0 && cert.GetNameInfo(X509NameType.DnsName, false) is { Length: > 0 } cn) names.Add(cn);
        return new Loaded(cert, names.ToArray(), certWritten, keyWritten);
    }

    private void Refresh()
    {
        for (var i = 0; i < _files.Length; i++)
        {
            var f = _files[i];
            try
            {
                var current = _loaded[i];
                if (File.GetLastWriteTimeUtc(f.CertFile) == current.CertWritten
                    && File.GetLastWriteTimeUtc(f.KeyFile) == current.KeyWritten)
                    continue;
                var next = Load(f);
                Volatile.Write(ref _loaded[i], next);
                Log?.LogInformation("TLS certificate {File} re-read: {Subject}, valid until {NotAfter:u}", f.CertFile,
                    next.Certificate.Subject, next.Certificate.NotAfter.ToUniversalTime());
            }
            catch (Exception e)
            {
                // A renewal may write the certificate and the key one after the other: the next check retries.
                Log?.LogWarning("TLS certificate {File} not re-read, still serving the previous one: {Error}", f.CertFile, e.Message);
            }
        }
    }

    /// <summary>Loads every file now: a bad file stops startup with the reason.</summary>
    public static CertificateFiles Open(HttpTlsSection tls)
    {
        try
        {
            return new CertificateFiles(tls);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException
                                      or InvalidDataException or ArgumentException)
        {
            throw new ConfigException($"config key 'http.tls.cert_file': the certificate or key does not load: {e.Message}");
        }
    }

    public void Dispose() => _timer.Dispose();
}
