using System.Text;

namespace MoleSignal.Tests.Support;

/// <summary>The body that once grew a stream to 180,001 fields: records of many new keys each, as NDJSON.</summary>
public static class WideBody
{
    public static string Ndjson(int records = 200, int keysEach = 900)
    {
        var sb = new StringBuilder();
        for (var r = 0; r < records; r++)
        {
            sb.Append('{');
            for (var k = 0; k < keysEach; k++) sb.Append($"\"f{r}_{k}\":1,");
            sb.Append("\"message\":\"x\"}\n");
        }
        return sb.ToString();
    }
}
