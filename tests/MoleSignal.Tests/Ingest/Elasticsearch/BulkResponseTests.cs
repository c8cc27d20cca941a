using System.Text.Json;
using Microsoft.AspNetCore.Http;
using MoleSignal.Gateway.Ingest.Elasticsearch;

namespace MoleSignal.Tests.Ingest.Elasticsearch;

/// <summary>The bulk answer is written from byte templates: it must still be JSON, in Elasticsearch's shape, with
/// every string from the request escaped.</summary>
public sealed class BulkResponseTests
{
    private static async Task<JsonElement> WriteAsync(BulkResponse answer)
    {
        var context = new DefaultHttpContext();
        var body = new MemoryStream();
        context.Response.Body = body;
        await answer.Took(7).ExecuteAsync(context);
        Assert.Equal("application/json", context.Response.ContentType);
        Assert.Equal(body.Length, context.Response.ContentLength);
        return JsonDocument.Parse(body.ToArray()).RootElement;
    }

    [Fact]
    public async Task Written_and_refused_items_keep_their_order_status_and_escaped_strings()
    {
        var answer = new BulkResponse();
        var odd = "a\"b\\c\n<é>";
        answer.Written(new BulkItem(BulkAction.Create, "logs", "logs", null, 0, 0, null), "logs");
        answer.Written(new BulkItem(BulkAction.Index, "logs", "logs", odd, 0, 0, null), "logs");
        answer.Refused(new BulkItem(BulkAction.Delete, odd, null, "1", 0, 0, "no"), 400,
            "illegal_argument_exception", $"reason {odd}");
        answer.Written(new BulkItem(BulkAction.Create, "other", "other", null, 0, 0, null), "other");
        // Enough items to grow the pooled buffer several times.
        for (var i = 0; i < 5000; i++)
            answer.Written(new BulkItem(BulkAction.Create, "logs", "logs", null, 0, 0, null), "logs");

        var root = await WriteAsync(answer);
        Assert.Equal(7, root.GetProperty("took").GetInt32());
        Assert.True(root.GetProperty("errors").GetBoolean());
        var items = root.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(5004, items.Count);

        var first = items[0].GetProperty("create");
        Assert.Equal("logs", first.GetProperty("_index").GetString());
        Assert.Equal(201, first.GetProperty("status").GetInt32());
        Assert.Equal("created", first.GetProperty("result").GetString());
        Assert.Equal(20, first.GetProperty("_id").GetString()!.Length);

        Assert.Equal(odd, items[1].GetProperty("index").GetProperty("_id").GetString());

        var refused = items[2].GetProperty("delete");
        Assert.Equal(odd, refused.GetProperty("_index").GetString());
        Assert.Equal(400, refused.GetProperty("status").GetInt32());
        Assert.Equal("illegal_argument_exception", refused.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal($"reason {odd}", refused.GetProperty("error").GetProperty("reason").GetString());

        Assert.Equal("other", items[3].GetProperty("create").GetProperty("_index").GetString());
        var ids = items.Where(i => i.TryGetProperty("create", out _))
            .Select(i => i.GetProperty("create").GetProperty("_id").GetString()).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public async Task An_answer_without_refusals_says_errors_false()
    {
        var answer = new BulkResponse();
        answer.Written(new BulkItem(BulkAction.Create, "logs", "logs", "x", 0, 0, null), "logs");
        var root = await WriteAsync(answer);
        Assert.False(root.GetProperty("errors").GetBoolean());
        Assert.Single(root.GetProperty("items").EnumerateArray());
    }
}
