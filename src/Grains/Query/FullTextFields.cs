using MoleSignal.Grains.Ingest;

namespace MoleSignal.Grains.Query;

/// <summary>A stream's full-text fields: its text fields the sidecars index (<c>[ingester].text_fields</c>), the
/// ones <c>match_all</c> tests.</summary>
internal sealed class FullTextFields(LiveSettings<IngestSettings> ingest)
{
    public List<string> Of(IEnumerable<(string Name, string Type)> fields)
    {
        var patterns = ingest.Current.TextFields;
        return fields.Where(f => f.Type == "utf8" && patterns.Matches(f.Name)).Select(f => f.Name).ToList();
    }
}
