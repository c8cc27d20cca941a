using System.Text;
using System.Text.Json;

namespace MoleSignal.Tests.Federation;

/// <summary>Records in the clusters of a federation test, and the oracle that answers the same SQL over all of
/// them in one plain DuckDB.</summary>
public static class FederationData
{
    /// <summary>genlogs records into the node's "web" stream, and the oracle's flattened copy at
    /// <paramref name="flat"/>.</summary>
    public static async Task LoadAsync(MoleSignalNode node, int records, int seed, string flat)
    {
        var data = GenLogs.Generate(records, seed);
        var lines = Encoding.UTF8.GetString(data).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        await NodeQueries.IngestAsync(node.Http, "web", lines, 2_000);
        var psi = new System.Diagnostics.ProcessStartInfo("python3")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(Path.GetDirectoryName(GenLogs.Script())!, "peers", "flatten.py"));
        using var p = System.Diagnostics.Process.Start(psi)!;
        var copy = Task.Run(async () =>
        {
            await using var f = File.Create(flat);
            await p.StandardOutput.BaseStream.CopyToAsync(f);
        });
        await p.StandardInput.BaseStream.WriteAsync(data);
        p.StandardInput.Close();
        await copy;
        await p.WaitForExitAsync();
    }

    /// <summary>The SQL over a view <c>web</c> of every cluster's records, each with its cluster's name as
    /// <c>_cluster</c>.</summary>
    public static List<List<string?>> Oracle(string sql, params (string Cluster, string Flat)[] clusters) =>
        OracleValues.Oracle("CREATE VIEW web AS " + string.Join(" UNION ALL BY NAME ", clusters.Select(c =>
            $"SELECT *, '{c.Cluster}' AS _cluster FROM read_ndjson_auto('{c.Flat}', sample_size = -1)")), sql);

    /// <summary>An answer's rows, normalised as the oracle's.</summary>
    public static List<List<string?>> Rows(JsonElement body) => OracleValues.Rows(body);
}
