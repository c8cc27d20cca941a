using System.Net;
using System.Text.Json;
using MoleSignal.Grains.Metadata;
using MoleSignal.Tests.Processes;
using MoleSignal.Tests.Support;

namespace MoleSignal.Tests.Compaction;

/// <summary>
/// Retention and deletion through the binary's API: whole days past a stream's retention go (the stream's own
/// setting over the default), nothing younger is trimmed; a deleted stream's buffer, WAL, files and schema go, it
/// stays gone through a kill -9, and its name starts afresh.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class StreamLifecycleProcessTests
{
    private const int DefaultRetention = 4, OldestDay = 6, PerDay = 40;

    private static Dictionary<string, string> Env() => new()
    {
        ["MS_INGESTER.FLUSH_INTERVAL_SECS"] = "1",
        ["MS_COMPACTOR.INTERVAL_SECS"] = "1",
        ["MS_COMPACTOR.DELETE_DELAY_SECS"] = "1",
        ["MS_COMPACTOR.RETENTION_DAYS"] = DefaultRetention.ToString(),
    };

    private static string Line(long ts, string stream, int i, string field = "level") =>
        JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["_timestamp"] = ts, [field] = "info", ["message"] = $"{stream} {i}",
        });

    /// <summary>Noon (UTC) of <paramref name="daysAgo"/> days before today, so each record's day is certain.</summary>
    private static long NoonOf(long today, int daysAgo) =>
        Partitions.DayStart(today - daysAgo) + Partitions.MicrosPerDay / 2;

    private static async Task<long> CountAsync(HttpClient http, string stream) =>
        (await AuthApi.SendAsync(http, HttpMethod.Post, "/api/v1/query",
            new { sql = $"SELECT count(*) FROM {stream}" }))
        .GetProperty("rows")[0][0].GetInt64();

    [Fact]
    public async Task Retention_deletes_exactly_the_expired_days_and_a_stream_setting_wins_over_the_default()
    {
        using var dir = new TempDir("ms-retention");
        using var node = MoleSignalNode.Start(Env(), workDir: dir.Path);
        await node.WaitHealthyAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
        var today = Partitions.DayOf(now);
        // Stream → its own retention (null: the default); each gets a record now, then one day's worth a day back
        // to OldestDay days ago.
        var streams = new (string Name, int? Own)[] { ("plain", null), ("short", 2), ("forever", 0) };
        foreach (var (name, _) in streams) await NodeQueries.IngestAsync(node.Http, name, [Line(now, name, -1)], 1);

        await AuthApi.SendAsync(node.Http, HttpMethod.Put, "/api/v1/streams/nosuch/settings",
            new { retention_days = 1 },
            expect: HttpStatusCode.NotFound);
        object[] bads = [new { retention_days = -1 }, new { retention_days = 40_000 }, new { keep = 3 }, new { }];
        foreach (var bad in bads)
        {
            var error = await AuthApi.SendAsync(node.Http, HttpMethod.Put, "/api/v1/streams/short/settings", bad,
                expect: HttpStatusCode.BadRequest);
            Assert.Equal("invalid_settings", error.GetProperty("error").GetString());
        }
        foreach (var (name, own) in streams.Where(s => s.Own is not null))
        {
            var set = await AuthApi.SendAsync(node.Http, HttpMethod.Put, $"/api/v1/streams/{name}/settings",
                new { retention_days = own });
            Assert.Equal(own, set.GetProperty("retention_days").GetInt32());
            Assert.Equal("stream", set.GetProperty("retention_source").GetString());
        }
        var plain = await AuthApi.SendAsync(node.Http, HttpMethod.Get, "/api/v1/streams/plain/settings");
        Assert.Equal(DefaultRetention, plain.GetProperty("retention_days").GetInt32());
        Assert.Equal("default", plain.GetProperty("retention_source").GetString());
        Assert.Equal(Partitions.DayName(today - DefaultRetention), plain.GetProperty("oldest_kept_day").GetString());

        foreach (var (name, _) in streams)
            await NodeQueries.IngestAsync(node.Http, name, Enumerable.Range(1, OldestDay)
                .SelectMany(d => Enumerable.Range(0, PerDay).Select(i => Line(NoonOf(today, d) + i, name, i))).ToList(),
                PerDay);

        // The sweep runs every second: each stream ends with today plus the days its retention keeps, whole.
        foreach (var (name, own) in streams)
        {
            var days = own ?? DefaultRetention;
            var keptDays = days == 0 ? OldestDay : Math.Min(days, OldestDay);
            await Poll.UntilAsync(() => CountAsync(node.Http, name), n => n == 1 + keptDays * PerDay,
                TimeSpan.FromSeconds(60), $"{name}: today and {keptDays} days");
            var byDay = (await AuthApi.SendAsync(node.Http, HttpMethod.Post, "/api/v1/query", new
            {
                sql = $"SELECT _timestamp // {Partitions.MicrosPerDay} AS d, count(*) FROM {name} " +
                      $"WHERE _timestamp < {Partitions.DayStart(today)} GROUP BY d ORDER BY d",
            })).GetProperty("rows");
            Assert.Equal(Enumerable.Range(1, keptDays).Reverse().Select(d => $"[{today - d},{PerDay}]"),
                byDay.EnumerateArray().Select(r => r.GetRawText().Replace(" ", "")));
        }
        // The listing shows each stream's retention and first kept day.
        var listed = await NodeQueries.StreamAsync(node.Http, "short");
        Assert.Equal(2, listed!.Value.GetProperty("retention_days").GetInt32());
        Assert.Equal(Partitions.DayName(today - 2), listed.Value.GetProperty("oldest_kept_day").GetString());
        var forever = await NodeQueries.StreamAsync(node.Http, "forever");
        Assert.Equal(JsonValueKind.Null, forever!.Value.GetProperty("oldest_kept_day").ValueKind);
        // Back to the default: null clears the stream's own setting.
        var cleared = await AuthApi.SendAsync(node.Http, HttpMethod.Put, "/api/v1/streams/short/settings",
            new Dictionary<string, object?> { ["retention_days"] = null });
        Assert.Equal("default", cleared.GetProperty("retention_source").GetString());
        Assert.Equal(DefaultRetention, cleared.GetProperty("retention_days").GetInt32());
    }

    [Fact]
    public async Task A_deleted_stream_loses_buffer_wal_files_and_schema_stays_gone_through_a_kill_and_starts_afresh()
    {
        using var dir = new TempDir("ms-delete");
        var env = Env();
        env["MS_COMPACTOR.RETENTION_DAYS"] = "0";
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
        using (var node = MoleSignalNode.Start(env, workDir: dir.Path))
        {
            await node.WaitHealthyAsync();
            await NodeQueries.IngestAsync(node.Http, "gone",
                Enumerable.Range(0, 300).Select(i => Line(now - i, "gone", i)).ToList(), 100);
            var files = await Poll.UntilAsync(() => NodeQueries.FilesAsync(dir.Path, "gone"), f => f.Count > 0,
                TimeSpan.FromSeconds(60), "flushed files");
            // Fresh records still buffered (maybe) when the deletion comes: they must go too.
            await NodeQueries.IngestAsync(node.Http, "gone",
                Enumerable.Range(0, 50).Select(i => Line(now, "gone", 1000 + i)).ToList(), 50);
            await NodeQueries.IngestAsync(node.Http, "kept", [Line(now, "kept", 0)], 1);

            var deleted = await AuthApi.SendAsync(node.Http, HttpMethod.Delete, "/api/v1/streams/gone");
            Assert.True(deleted.GetProperty("deleted").GetBoolean());
            Assert.True(deleted.GetProperty("files").GetInt64() > 0); // fewer than flushed when some merged
            await AuthApi.SendAsync(node.Http, HttpMethod.Delete, "/api/v1/streams/gone",
                expect: HttpStatusCode.NotFound);
            await AuthApi.SendAsync(node.Http, HttpMethod.Get, "/api/v1/streams/gone/schema",
                expect: HttpStatusCode.NotFound);
            Assert.Null(await NodeQueries.StreamAsync(node.Http, "gone"));
            Assert.Empty(await NodeQueries.FilesAsync(dir.Path, "gone"));
            Assert.False(Directory.Exists(Path.Combine(dir.Path, "data", "wal", "default", "logs", "gone")));
            await Poll.UntilAsync(
                () => Task.FromResult(files.Count(f => File.Exists(NodeQueries.ObjectPath(dir.Path, f.ObjectKey)))),
                n => n == 0, TimeSpan.FromSeconds(60), "the deleted stream's objects removed");
            Assert.Equal(1, await CountAsync(node.Http, "kept"));
            node.Process.Kill();
        }
        using (var node = MoleSignalNode.Start(env, workDir: dir.Path))
        {
            await node.WaitHealthyAsync();
            Assert.Null(await NodeQueries.StreamAsync(node.Http, "gone")); // nothing replayed it
            // The name again, with other fields: only the new records and the new schema.
            await NodeQueries.IngestAsync(node.Http, "gone",
                Enumerable.Range(0, 7).Select(i => Line(now, "gone", i, "other")).ToList(), 7);
            Assert.Equal(7, await CountAsync(node.Http, "gone"));
            var schema = await AuthApi.SendAsync(node.Http, HttpMethod.Get, "/api/v1/streams/gone/schema");
            var fields = schema.GetProperty("fields").EnumerateArray()
                .Select(f => f.GetProperty("name").GetString()).ToList();
            Assert.Contains("other", fields);
            Assert.DoesNotContain("level", fields);
            Assert.Equal(1, await CountAsync(node.Http, "kept"));
        }
    }
}
