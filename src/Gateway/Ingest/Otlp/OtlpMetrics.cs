using System.Buffers;
using System.Text.Json;
using Google.Protobuf.Collections;
using MoleSignal.Otlp.Common;
using MoleSignal.Otlp.Metrics;

namespace MoleSignal.Gateway.Ingest.Otlp;

/// <summary>
/// OTLP metric data points as rows of a metrics stream, one per point: <c>name</c>, <c>type</c> (gauge, sum,
/// histogram, exponential_histogram, summary), <c>unit</c>, <c>description</c>; gauges and sums a float
/// <c>value</c> (sums also <c>is_monotonic</c> and <c>temporality</c>); histograms and summaries <c>count</c>,
/// <c>sum</c>, <c>min</c>, <c>max</c> and their buckets or quantiles as JSON (<c>buckets</c>: bounds and counts;
/// exponential: scale, zero_count, positive/negative offsets and counts; <c>quantiles</c>: quantile and value);
/// then the point's attributes and the resource's, flattened with '_'. <c>_timestamp</c> is the point's time.
/// </summary>
public static class OtlpMetrics
{
    private static readonly string[] Temporalities = ["unspecified", "delta", "cumulative"];

    public static int Count(ExportMetricsServiceRequest request)
    {
        var n = 0;
        foreach (var r in request.ResourceMetrics)
        foreach (var s in r.ScopeMetrics)
        foreach (var m in s.Metrics)
            n += m.DataCase switch
            {
                Metric.DataOneofCase.Gauge => m.Gauge.DataPoints.Count,
                Metric.DataOneofCase.Sum => m.Sum.DataPoints.Count,
                Metric.DataOneofCase.Histogram => m.Histogram.DataPoints.Count,
                Metric.DataOneofCase.ExponentialHistogram => m.ExponentialHistogram.DataPoints.Count,
                Metric.DataOneofCase.Summary => m.Summary.DataPoints.Count,
                _ => 0,
            };
        return n;
    }

    public static string? Fill(RecordBuilder b, ExportMetricsServiceRequest request)
    {
        var point = new Point(b, new OtlpValues(), new ArrayBufferWriter<byte>(1024));
        using var values = point.Values;
        using var writer = new Utf8JsonWriter(point.Json);
        foreach (var resource in request.ResourceMetrics)
        foreach (var scope in resource.ScopeMetrics)
        foreach (var m in scope.Metrics)
        {
            var res = resource.Resource?.Attributes;
            switch (m.DataCase)
            {
                case Metric.DataOneofCase.Gauge:
                    foreach (var p in m.Gauge.DataPoints)
                    {
                        point.Begin(m, "gauge", p.TimeUnixNano);
                        b.AddFloat64("value"u8, Value(p));
                        point.End(p.Attributes, res, p.CalculateSize());
                    }
                    break;
                case Metric.DataOneofCase.Sum:
                    foreach (var p in m.Sum.DataPoints)
                    {
                        point.Begin(m, "sum", p.TimeUnixNano);
                        b.AddFloat64("value"u8, Value(p));
                        b.AddBool("is_monotonic"u8, m.Sum.IsMonotonic);
                        values.AddString(b, "temporality"u8, Temporality(m.Sum.AggregationTemporality));
                        point.End(p.Attributes, res, p.CalculateSize());
                    }
                    break;
                case Metric.DataOneofCase.Histogram:
                    foreach (var p in m.Histogram.DataPoints)
                    {
                        point.Begin(m, "histogram", p.TimeUnixNano);
                        point.Stats(p.Count, p.HasSum ? p.Sum : null, p.HasMin ? p.Min : null, p.HasMax ? p.Max : null);
                        values.AddString(b, "temporality"u8, Temporality(m.Histogram.AggregationTemporality));
                        b.AddJson("buckets"u8, point.Buckets(writer, p));
                        point.End(p.Attributes, res, p.CalculateSize());
                    }
                    break;
                case Metric.DataOneofCase.ExponentialHistogram:
                    foreach (var p in m.ExponentialHistogram.DataPoints)
                    {
                        point.Begin(m, "exponential_histogram", p.TimeUnixNano);
                        point.Stats(p.Count, p.HasSum ? p.Sum : null, p.HasMin ? p.Min : null, p.HasMax ? p.Max : null);
                        values.AddString(b, "temporality"u8,
                            Temporality(m.ExponentialHistogram.AggregationTemporality));
                        b.AddJson("buckets"u8, point.Buckets(writer, p));
                        point.End(p.Attributes, res, p.CalculateSize());
                    }
                    break;
                case Metric.DataOneofCase.Summary:
                    foreach (var p in m.Summary.DataPoints)
                    {
                        point.Begin(m, "summary", p.TimeUnixNano);
                        point.Stats(p.Count, p.Sum, null, null);
                        b.AddJson("quantiles"u8, point.Quantiles(writer, p));
                        point.End(p.Attributes, res, p.CalculateSize());
                    }
                    break;
            }
        }
        return null;
    }

    private static double Value(NumberDataPoint p) =>
        p.ValueCase == NumberDataPoint.ValueOneofCase.AsInt ? p.AsInt : p.AsDouble;

    private static string Temporality(int t) => t is >= 0 and < 3 ? Temporalities[t] : t.ToString();

    /// <summary>One data point's record: what every metric type shares.</summary>
    private sealed class Point(RecordBuilder b, OtlpValues values, ArrayBufferWriter<byte> json)
    {
        private readonly byte[] _key = new byte[RecordKeys.MaxBytes];
        private int _index;

        public OtlpValues Values => values;
        public ArrayBufferWriter<byte> Json => json;

        public void Begin(Metric m, string type, ulong timeUnixNano)
        {
            b.BeginRecord();
            OtlpValues.SetTimestamp(b, timeUnixNano, 1);
            values.AddString(b, "name"u8, m.Name);
            values.AddString(b, "type"u8, type);
            if (m.Unit.Length > 0) values.AddString(b, "unit"u8, m.Unit);
            if (m.Description.Length > 0) values.AddString(b, "description"u8, m.Description);
        }

        public void Stats(ulong count, double? sum, double? min, double? max)
        {
            b.AddInt64("count"u8, (long)count);
            if (sum is { } s) b.AddFloat64("sum"u8, s);
            if (min is { } lo) b.AddFloat64("min"u8, lo);
            if (max is { } hi) b.AddFloat64("max"u8, hi);
        }

        public void End(RepeatedField<KeyValue> attributes, RepeatedField<KeyValue>? resource, int size)
        {
            values.AddAttributes(b, _key, 0, attributes);
            if (resource is not null) values.AddAttributes(b, _key, 0, resource);
            b.EndRecord(_index++, size);
        }

        private Utf8JsonWriter Start(Utf8JsonWriter w)
        {
            json.ResetWrittenCount();
            w.Reset(json);
            return w;
        }

        private ReadOnlySpan<byte> Done(Utf8JsonWriter w)
        {
            w.Flush();
            return json.WrittenSpan;
        }

        public ReadOnlySpan<byte> Buckets(Utf8JsonWriter writer, HistogramDataPoint p)
        {
            var w = Start(writer);
            w.WriteStartObject();
            w.WriteStartArray("bounds"u8);
            foreach (var bound in p.ExplicitBounds) w.WriteNumberValue(bound);
            w.WriteEndArray();
            w.WriteStartArray("counts"u8);
            foreach (var c in p.BucketCounts) w.WriteNumberValue(c);
            w.WriteEndArray();
            w.WriteEndObject();
            return Done(w);
        }

        public ReadOnlySpan<byte> Buckets(Utf8JsonWriter writer, ExponentialHistogramDataPoint p)
        {
            var w = Start(writer);
            w.WriteStartObject();
            w.WriteNumber("scale"u8, p.Scale);
            w.WriteNumber("zero_count"u8, p.ZeroCount);
            foreach (var (name, side) in new[] { ("positive", p.Positive), ("negative", p.Negative) })
            {
                if (side is null) continue;
                w.WriteStartObject(name);
                w.WriteNumber("offset"u8, side.Offset);
                w.WriteStartArray("counts"u8);
                foreach (var c in side.BucketCounts) w.WriteNumberValue(c);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
            return Done(w);
        }

        public ReadOnlySpan<byte> Quantiles(Utf8JsonWriter writer, SummaryDataPoint p)
        {
            var w = Start(writer);
            w.WriteStartArray();
            foreach (var q in p.QuantileValues)
            {
                w.WriteStartObject();
                w.WriteNumber("quantile"u8, q.Quantile);
                w.WriteNumber("value"u8, q.Value);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            return Done(w);
        }
    }
}
