using System.Globalization;
using System.Text;

namespace MoleSignal.Grains.Metadata;

/// <summary>
/// The WAL entries a data file holds. A flushed file holds one run, <c>wal_seq_start..wal_seq_end</c>; a merged
/// file holds its inputs' runs, which need not touch (another day's file may hold the entries between), so it
/// keeps them listed in <c>wal_ranges</c> as <c>"start-end,start-end"</c>, coalesced, while its
/// <c>wal_seq_start..wal_seq_end</c> is their hull (what the query's buffer boundary compares against).
/// </summary>
public static class WalRanges
{
    /// <summary>The runs a file row names: its listed ranges, or its one range when none are listed.</summary>
    public static IEnumerable<(long Start, long End)> Of(long start, long end, string listed)
    {
        if (string.IsNullOrEmpty(listed))
        {
            yield return (start, end);
            yield break;
        }
        foreach (var part in listed.Split(','))
        {
            var dash = part.IndexOf('-', 1); // seqs are never negative, but a leading '-' would not be a separator
            yield return (long.Parse(part.AsSpan(0, dash), CultureInfo.InvariantCulture),
                long.Parse(part.AsSpan(dash + 1), CultureInfo.InvariantCulture));
        }
    }

    /// <summary>The union of <paramref name="files"/>' runs, sorted, touching runs joined.</summary>
    public static List<(long Start, long End)> Union(IEnumerable<FileMeta> files)
    {
        var all = files.SelectMany(f => Of(f.WalSeqStart, f.WalSeqEnd, f.WalRanges)).OrderBy(r => r.Start).ToList();
        var merged = new List<(long Start, long End)>();
        foreach (var r in all)
        {
            if (merged.Count > 0 && r.Start <= merged[^1].End + 1)
                merged[^1] = (merged[^1].Start, Math.Max(merged[^1].End, r.End));
            else merged.Add(r);
        }
        return merged;
    }

    /// <summary>The <c>wal_ranges</c> text of runs; empty for a single run (the row's own range says it).</summary>
    public static string Format(IReadOnlyList<(long Start, long End)> runs)
    {
        if (runs.Count <= 1) return "";
        var sb = new StringBuilder();
        foreach (var (s, e) in runs)
        {
            if (sb.Length > 0) sb.Append(',');
            sb.Append(s.ToString(CultureInfo.InvariantCulture)).Append('-')
                .Append(e.ToString(CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }
}
