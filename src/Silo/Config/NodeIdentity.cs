namespace MoleSignal.Silo.Config;

/// <summary>An empty [node].id is generated once and kept in {data_dir}/node_id across restarts.</summary>
public static class NodeIdentity
{
    public static string Resolve(NodeSection node)
    {
        if (!string.IsNullOrWhiteSpace(node.Id)) return node.Id;
        var dir = Path.GetFullPath(node.DataDir);
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, "node_id");
        if (File.Exists(file))
        {
            var kept = File.ReadAllText(file).Trim();
            if (kept.Length > 0) return kept;
        }
        var id = "node-" + Guid.NewGuid().ToString("N")[..12];
        var temp = $"{file}.{Environment.ProcessId}.tmp"; // two processes starting at once never share a temp file
        File.WriteAllText(temp, id + "\n");
        File.Move(temp, file, overwrite: true);
        return id;
    }
}
