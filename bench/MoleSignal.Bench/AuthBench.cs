using System.Diagnostics;
using System.Text;
using MoleSignal.Grains;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Grains.Audit;
using MoleSignal.Grains.Auth;
using MoleSignal.Grains.Metadata;

namespace MoleSignal.Bench;

/// <summary>
/// Credential verification on its own: a service token through <see cref="Authenticator"/> over a SQLite metadata
/// store, cached (the same header again, as every request of a shipper) and uncached (a node that never saw it:
/// the row read plus argon2id).
///   dotnet run -c Release --project bench/MoleSignal.Bench -- auth [cached=200000] [uncached=50]
/// </summary>
public static class AuthBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var cachedRuns = args.Length > 1 ? int.Parse(args[1]) : 200_000;
        var uncachedRuns = args.Length > 2 ? int.Parse(args[2]) : 50;
        var dir = Path.Combine(Path.GetTempPath(), "molesignal-bench-auth-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            await using var meta = MetaStore.Sqlite(Path.Combine(dir, "meta.db"));
            await MigrationRunner.ApplyAsync(meta);
            var clock = TimeProvider.System;
            var store = new AuthStore(meta);
            var audit = new AuditLog(meta, clock);
            var settings = new LiveSettings<AuthSettings>(new AuthSettings(true, TimeSpan.FromHours(1),
                TimeSpan.FromSeconds(30), 365));
            var (prefix, secret, token) = ApiTokenFormat.New();
            await store.InsertTokenAsync(new TokenRow(prefix, "bench", null, "default", OrgRole.Ingester,
                PasswordHasher.Hash(secret), Clock.NowMicros(clock), null, null), CancellationToken.None);
            var header = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("fluent-bit:" + token));
            Authenticator New() => new(store, new CredentialCache(), new LoginThrottle(clock),
                new JwtService(new byte[32], clock), audit, settings, clock);

            var uncached = new double[uncachedRuns];
            for (var i = 0; i < uncachedRuns; i++)
            {
                var auth = New();
                var t = Stopwatch.GetTimestamp();
                var outcome = await auth.AuthenticateAsync(header, "127.0.0.1", CancellationToken.None);
                uncached[i] = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
                if (outcome.Principal is null) throw new InvalidOperationException("the token was refused");
            }

            var warm = New();
            await warm.AuthenticateAsync(header, "127.0.0.1", CancellationToken.None);
            var cached = new double[cachedRuns];
            for (var i = 0; i < cachedRuns; i++)
            {
                var t = Stopwatch.GetTimestamp();
                var outcome = await warm.AuthenticateAsync(header, "127.0.0.1", CancellationToken.None);
                cached[i] = Stopwatch.GetElapsedTime(t).TotalMicroseconds;
                if (outcome.Principal is null) throw new InvalidOperationException("the token was refused");
            }
            Array.Sort(uncached);
            Array.Sort(cached);
            Console.WriteLine($"token verification uncached (row + argon2id): p50 {uncached[uncachedRuns / 2]:F1} ms, " +
                              $"p99 {uncached[(int)(uncachedRuns * 0.99)]:F1} ms over {uncachedRuns}");
            Console.WriteLine($"token verification cached: p50 {cached[cachedRuns / 2]:F2} µs, " +
                              $"p99 {cached[(int)(cachedRuns * 0.99)]:F2} µs over {cachedRuns}");
            return 0;
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, true);
        }
    }
}
