using System.Buffers;
using System.IO.Compression;
using ZstdSharp;

namespace MoleSignal.Gateway.Ingest;

/// <summary>The request body, decompressed (gzip, zstd, deflate, or a snappy block), into a pooled buffer no larger than the body limit.</summary>
public sealed class BodyReader : IDisposable
{
    private byte[] _buffer;

    private BodyReader(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    public int Length { get; }

    /// <summary>The size of the buffer behind the body.</summary>
    public int Capacity => _buffer.Length;

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, Length);

    public sealed class TooLargeException(long limit) : Exception($"request body is larger than {limit >> 20} MiB (http.max_body_mb), after decompression");

    public sealed class UnsupportedEncodingException(string encoding) : Exception($"Content-Encoding '{encoding}' is not supported (use gzip, zstd or identity)");

    private const int InitialBytes = 256 * 1024;

    /// <summary>A zstd frame may ask for a window of up to 2^<see cref="MaxWindowLog"/> bytes (16 MiB; level 19
    /// needs 8): a larger one is refused rather than allocated.</summary>
    public const int MaxWindowLog = 24;

    private static DecompressionStream Zstd(Stream body)
    {
        var stream = new DecompressionStream(body, leaveOpen: true);
        stream.SetParameter(ZstdSharp.Unsafe.ZSTD_dParameter.ZSTD_d_windowLogMax, MaxWindowLog);
        return stream;
    }

    /// <param name="snappy">The protocol's bodies are one snappy block (Loki, Prometheus remote write), with or
    /// without <c>Content-Encoding: snappy</c>.</param>
    public static async Task<BodyReader> ReadAsync(HttpRequest request, long limit, CancellationToken ct,
        bool snappy = false)
    {
        var encoding = request.Headers.ContentEncoding.ToString().Trim().ToLowerInvariant();
        if (!snappy) return await ReadAsync(request, encoding, limit, ct);
        if (encoding is not ("" or "identity" or "snappy")) throw new UnsupportedEncodingException(encoding);
        using var block = await ReadAsync(request, "identity", limit, ct);
        return Unsnappy(block.Span, limit);
    }

    private static async Task<BodyReader> ReadAsync(HttpRequest request, string encoding, long limit,
        CancellationToken ct)
    {
        await using Stream source = encoding switch
        {
            "" or "identity" => request.Body,
            "gzip" or "x-gzip" => new GZipStream(request.Body, CompressionMode.Decompress, leaveOpen: true),
            "zstd" => Zstd(request.Body),
            "deflate" => new ZLibStream(request.Body, CompressionMode.Decompress, leaveOpen: true),
            _ => throw new UnsupportedEncodingException(encoding),
        };
        // Content-Length is a claim, not bytes: the buffer grows as the bytes arrive.
        var initial = request.ContentLength is > 0 and < int.MaxValue && encoding is "" or "identity"
            ? (int)Math.Min(Math.Min(request.ContentLength.Value, limit), InitialBytes) + 1
            : InitialBytes;
        var buffer = ArrayPool<byte>.Shared.Rent(initial);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > limit) throw new TooLargeException(limit);
                    var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, limit + 1));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }
                var n = await source.ReadAsync(buffer.AsMemory(length), ct);
                if (n == 0) break;
                length += n;
                if (length > limit) throw new TooLargeException(limit);
            }
            return new BodyReader(buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>A snappy block, decompressed; throws <see cref="InvalidDataException"/> when it is not one.</summary>
    private static BodyReader Unsnappy(ReadOnlySpan<byte> block, long limit)
    {
        int length;
        try
        {
            length = Snappier.Snappy.GetUncompressedLength(block);
        }
        catch (Exception e) when (e is not InvalidDataException) // a length varint past 32 bits
        {
            throw new InvalidDataException("not a snappy block: " + e.Message, e);
        }
        if (length < 0) throw new InvalidDataException("not a snappy block: its length is past 2 GiB");
        if (length > limit) throw new TooLargeException(limit);
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, length));
        try
        {
            return new BodyReader(buffer, Snappier.Snappy.Decompress(block, buffer));
        }
        catch (Exception e)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            // Content longer than its header says is an ArgumentException of the output buffer.
            if (e is InvalidDataException) throw;
            throw new InvalidDataException("not a snappy block: " + e.Message, e);
        }
    }

    public void Dispose()
    {
        if (_buffer.Length == 0) return;
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }
}
