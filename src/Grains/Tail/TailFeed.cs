using System.Buffers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Abstractions.Tail;
using MoleSignal.Grains.Columnar;
using Orleans.Utilities;

namespace MoleSignal.Grains.Tail;

/// <summary>
/// A stream's live tails: the observers its acknowledged batches are pushed to (one-way: a slow or gone tail never
/// holds up ingest; one that stops renewing expires). Each batch is written as NDJSON once, for all of them, and
/// only while there is a tail.
/// </summary>
public sealed class TailFeed(ILogger logger)
{
    private readonly ObserverManager<ITailObserver> _observers = new(TailLimits.Expiry, logger);

    /// <summary>Adds or renews <paramref name="observer"/>; false when the stream feeds the most it may.</summary>
    public bool Add(ITailObserver observer)
    {
        if (_observers.Count >= TailLimits.SubscribersPerStream && !_observers.Observers.ContainsKey(observer))
        {
            _observers.ClearExpired();
            if (_observers.Count >= TailLimits.SubscribersPerStream) return false;
        }
        _observers.Subscribe(observer, observer);
        return true;
    }

    public void Remove(ITailObserver observer) => _observers.Unsubscribe(observer);

    /// <summary>Pushes an acknowledged batch to every tail.</summary>
    public void Publish(IngestBatch batch)
    {
        if (_observers.Count == 0) return;
        var records = new TailRecords { Ndjson = Ndjson(batch), Count = batch.Count };
        _observers.Notify(o => o.OnRecords(records));
    }

    /// <summary>The batch's records as NDJSON, each with its fields as the batch holds them.</summary>
    public static byte[] Ndjson(IngestBatch batch)
    {
        var schema = new (string, FieldKind)[batch.FieldNames.Length];
        for (var i = 0; i < schema.Length; i++) schema[i] = (batch.FieldNames[i], batch.FieldKinds[i]);
        var set = new ColumnSet([batch], schema);
        var output = new ArrayBufferWriter<byte>(batch.Payload.Length * 2 + 64);
        using var json = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true });
        for (var row = 0; row < set.Rows; row++)
        {
            json.WriteStartObject();
            json.WriteNumber("_timestamp"u8, set.Timestamps[row]);
            foreach (var c in set.Columns)
                switch (c.Kind)
                {
                    case FieldKind.Int64 when c.Longs![row] is { } l: json.WriteNumber(c.Name, l); break;
                    case FieldKind.Float64 when c.Doubles![row] is { } d && double.IsFinite(d):
                        json.WriteNumber(c.Name, d);
                        break;
                    case FieldKind.Bool when c.Bools![row] is { } b: json.WriteBoolean(c.Name, b); break;
                    case FieldKind.Utf8 when c.Strings![row] is { } s: json.WriteString(c.Name, s.Span); break;
                }
            json.WriteEndObject();
            json.Flush();
            output.Write("\n"u8);
            json.Reset(output);
        }
        return output.WrittenSpan.ToArray();
    }
}
