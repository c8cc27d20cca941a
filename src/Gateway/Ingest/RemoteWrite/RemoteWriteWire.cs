using System.Buffers;
using System.Text;

namespace MoleSignal.Gateway.Ingest.RemoteWrite;

/// <summary>Where one time series of a write request lies in the body, its metric name and its sample count.
/// </summary>
public readonly record struct WireSeries(int Start, int Length, string MetricName, int Samples);

/// <summary>
/// <c>prometheus.WriteRequest</c> read from the body's bytes with <see cref="ProtoWire"/>. <see cref="Read"/>
/// checks the whole request before anything is written and notes each series; <see cref="Fill"/> reads them
/// again from there, makes a series' label keys once for all its samples and hands the builder the label values
/// as their UTF-8 bytes.
/// </summary>
public static class RemoteWriteWire
{
    // WriteRequest.timeseries; TimeSeries.labels, .samples; Sample.value (double), .timestamp (ms).
    private const int Timeseries = 1, Labels = 1, Samples = 2, SampleValue = 1, SampleTime = 2;

    public const string MetricNameLabel = "__name__";

    /// <returns>Null, or why the body is not a write request (then nothing of it is written).</returns>
    public static string? Read(ReadOnlySpan<byte> body, List<WireSeries> series)
    {
        try
        {
            var request = new ProtoWire(body);
            while (request.Next(out var field, out var type))
            {
                if (field != Timeseries || type != ProtoWire.LengthDelimited)
                {
                    request.Skip(type);
                    continue;
                }
                var bytes = request.ReadBytes(out var offset);
                var s = new ProtoWire(bytes, offset);
                var name = "";
                var samples = 0;
                while (s.Next(out field, out type))
                {
                    if (type != ProtoWire.LengthDelimited) s.Skip(type);
                    else if (field == Labels)
                    {
                        s.ReadMessage().ReadPair(out var n, out var v, check: true);
                        if (n.SequenceEqual("__name__"u8)) name = Encoding.UTF8.GetString(v);
                    }
                    else if (field == Samples)
                    {
                        var sample = s.ReadMessage();
                        while (sample.Next(out _, out var t)) sample.Skip(t);
                        samples++;
                    }
                    else s.Skip(type);
                }
                series.Add(new WireSeries(offset, bytes.Length, name, samples));
            }
            return null;
        }
        catch (ProtoWireException e)
        {
            return $"the body is not a remote write request: {e.Message}";
        }
    }

    /// <summary>One record per sample that is not <paramref name="staleNaN"/>: <c>value</c>, then the series'
    /// labels as fields.</summary>
    public static void Fill(RecordBuilder b, ReadOnlySpan<byte> body, List<WireSeries> series, ulong staleNaN)
    {
        var keys = ArrayPool<byte>.Shared.Rent(4096);
        var labels = new List<(int KeyStart, int KeyLength, int ValueStart, int ValueLength)>();
        try
        {
            var index = 0;
            foreach (var one in series)
            {
                labels.Clear();
                var used = 0;
                var size = 16;
                var s = new ProtoWire(body.Slice(one.Start, one.Length), one.Start);
                while (s.Next(out var field, out var type))
                {
                    if (field != Labels || type != ProtoWire.LengthDelimited)
                    {
                        s.Skip(type);
                        continue;
                    }
                    var label = s.ReadMessage();
                    var valueAt = 0;
                    ReadOnlySpan<byte> name = default, value = default;
                    while (label.Next(out var f, out var t))
                    {
                        if (t != ProtoWire.LengthDelimited) label.Skip(t);
                        else if (f == 1) name = label.ReadBytes();
                        else if (f == 2) value = label.ReadBytes(out valueAt);
                        else label.Skip(t);
                    }
                    if (keys.Length - used < RecordKeys.MaxBytes) Grow(ref keys, used);
                    var len = RecordKeys.Append(keys.AsSpan(used, RecordKeys.MaxBytes), 0, name);
                    labels.Add((used, len, valueAt, value.Length));
                    if (len > 0) used += len;
                    size += name.Length + value.Length;
                }
                s = new ProtoWire(body.Slice(one.Start, one.Length), one.Start);
                while (s.Next(out var field, out var type))
                {
                    if (field != Samples || type != ProtoWire.LengthDelimited)
                    {
                        s.Skip(type);
                        continue;
                    }
                    var sample = s.ReadMessage();
                    ulong bits = 0;
                    long millis = 0;
                    while (sample.Next(out var f, out var t))
                    {
                        if (f == SampleValue && t == ProtoWire.Fixed64) bits = sample.ReadFixed64();
                        else if (f == SampleTime && t == ProtoWire.Varint) millis = (long)sample.ReadVarint();
                        else sample.Skip(t);
                    }
                    if (bits == staleNaN) continue;
                    b.BeginRecord();
                    b.SetTimestamp(millis * 1000);
                    b.AddFloat64("value"u8, BitConverter.UInt64BitsToDouble(bits));
                    foreach (var (keyStart, keyLength, valueStart, valueLength) in labels)
                    {
                        if (keyLength < 0) b.Fail(RecordKeys.TooLong);
                        else b.AddString(keys.AsSpan(keyStart, keyLength), body.Slice(valueStart, valueLength));
                    }
                    b.EndRecord(index++, size);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(keys);
        }
    }

    private static void Grow(ref byte[] keys, int used)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(keys.Length * 2);
        keys.AsSpan(0, used).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(keys);
        keys = bigger;
    }
}
