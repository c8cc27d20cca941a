using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using MoleSignal.Grains.Abstractions.Alerts;
using MoleSignal.Grains.Abstractions.Auth;

namespace MoleSignal.Grains.Alerts;

/// <summary>
/// Delivers one notification to one destination: a webhook request or an email (MailKit). Every delivery carries
/// the notification's key (the <c>Idempotency-Key</c> header; the email's Message-ID), the same on every attempt, so
/// a receiver can drop a repeat after a crash between sending and recording.
/// </summary>
public sealed class NotificationSender(ISecretStore secrets, MoleSignal.Grains.Storage.IObjectStore objects)
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        AllowAutoRedirect = false,
    }) { Timeout = TimeSpan.FromSeconds(10) };

    /// <returns>Null when delivered, else why not.</returns>
    public async Task<string?> SendAsync(Destination d, string payload, string key, CancellationToken ct)
    {
        try
        {
            return d.Spec.Kind == DestinationKind.Webhook
                ? await WebhookAsync(d, d.Spec.Webhook!, payload, key, ct)
                : await EmailAsync(d, d.Spec.Email!, payload, key, ct);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException
            or SmtpCommandException or SmtpProtocolException or AuthenticationException
            or System.Net.Sockets.SocketException or SecretReferenceException && !ct.IsCancellationRequested)
        {
            return e.Message;
        }
    }

    private async Task<string?> WebhookAsync(Destination d, WebhookSpec w, string payload, string key,
        CancellationToken ct)
    {
        using var request = new HttpRequestMessage(new HttpMethod(w.Method), w.Url);
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        foreach (var (name, value) in w.Headers)
            request.Headers.TryAddWithoutValidation(name, await RevealAsync(d.Org, value, ct));
        if (w.Method != "GET")
            request.Content = new StringContent(NotificationText.Body(w, payload), Encoding.UTF8,
                new MediaTypeHeaderValue("application/json"));
        using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        return response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode} from the webhook";
    }

    private async Task<string?> EmailAsync(Destination d, EmailSpec e, string payload, string key,
        CancellationToken ct)
    {
        var message = new MimeMessage { MessageId = $"{key}@molesignal", Subject = NotificationText.Subject(payload) };
        message.From.Add(MailboxAddress.Parse(e.From));
        foreach (var to in e.To) message.To.Add(MailboxAddress.Parse(to));
        var body = new BodyBuilder { TextBody = NotificationText.Plain(payload) };
        foreach (var (name, bytes, type) in await AttachmentsAsync(payload, ct))
            body.Attachments.Add(name, bytes, ContentType.Parse(type));
        message.Body = body.ToMessageBody();
        using var smtp = new SmtpClient { Timeout = 10_000 };
        await smtp.ConnectAsync(e.Host, e.Port, e.StartTls ? SecureSocketOptions.StartTls : SecureSocketOptions.None,
            ct);
        if (e.User is { } user) await smtp.AuthenticateAsync(user, await RevealAsync(d.Org, e.Password ?? "", ct), ct);
        await smtp.SendAsync(message, ct);
        await smtp.DisconnectAsync(true, ct);
        return null;
    }

    /// <summary>A report notification's files, as email attachments.</summary>
    private async Task<List<(string, byte[], string)>> AttachmentsAsync(string payload, CancellationToken ct)
    {
        var files = new List<(string, byte[], string)>();
        using var doc = JsonDocument.Parse(payload);
        var root = doc.RootElement;
        if (root.GetProperty("event").GetString() != "report") return files;
        var org = root.GetProperty("org").GetString()!;
        var report = root.GetProperty("report_id").GetString()!;
        var run = root.GetProperty("run_at").GetInt64();
        foreach (var f in root.GetProperty("formats").EnumerateArray())
        {
            if (!ReportNames.TryParse(f.GetString(), out ReportFormat format)) continue;
            var ext = ReportNames.Of(format);
            if (await objects.GetAsync(Storage.ObjectKey.ReportFile(org, report, run, ext), ct) is { } bytes)
                files.Add(($"report-{run}.{ext}", bytes, ReportNames.ContentType(format)));
        }
        return files;
    }

    /// <summary>A header or password value: a secret reference is replaced by the secret, other text is kept.
    /// </summary>
    private async Task<string> RevealAsync(string org, string value, CancellationToken ct)
    {
        if (!SecretReferences.IsReference(value)) return value;
        return await secrets.RevealAsync(org, value, ct)
            ?? throw new SecretReferenceException($"the secret {value} is not found");
    }
}

/// <summary>A destination names a secret that is gone: the delivery fails (and is retried) instead of sending
/// the reference itself.</summary>
public sealed class SecretReferenceException(string message) : Exception(message);

/// <summary>The text of a notification: template substitution, the Slack and Teams presets, subject lines.
/// </summary>
public static class NotificationText
{
    public static string Body(WebhookSpec w, string payload)
    {
        if (w.BodyTemplate is { } template) return Fill(template, payload);
        return w.Preset switch
        {
            "slack" => JsonSerializer.Serialize(new { text = Subject(payload) }),
            "teams" => JsonSerializer.Serialize(new Dictionary<string, string>
            {
                ["@type"] = "MessageCard", ["@context"] = "https://schema.org/extensions",
                ["summary"] = Subject(payload), ["text"] = Plain(payload),
            }),
            _ => payload,
        };
    }

    /// <summary><c>{{field}}</c> of the payload's top level replaced by its value (strings as they are, the rest
    /// as JSON); unknown fields become empty.</summary>
    public static string Fill(string template, string payload)
    {
        using var doc = JsonDocument.Parse(payload);
        var sb = new StringBuilder(template.Length + 256);
        var at = 0;
        while (at < template.Length)
        {
            var open = template.IndexOf("{{", at, StringComparison.Ordinal);
            var close = open < 0 ? -1 : template.IndexOf("}}", open + 2, StringComparison.Ordinal);
            if (close < 0)
            {
                sb.Append(template, at, template.Length - at);
                break;
            }
            sb.Append(template, at, open - at);
            var name = template.AsSpan(open + 2, close - open - 2).Trim().ToString();
            if (doc.RootElement.TryGetProperty(name, out var v))
                sb.Append(v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText());
            at = close + 2;
        }
        return sb.ToString();
    }

    public static string Subject(string payload)
    {
        using var doc = JsonDocument.Parse(payload);
        var root = doc.RootElement;
        string Get(string name) => root.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null
            ? v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText() : "";
        if (Get("event") is "report" or "test") return $"[{Get("event").ToUpperInvariant()}] {Get("rule_name")}";
        var group = root.TryGetProperty("group", out var g) && g.ValueKind == JsonValueKind.Object
            && g.EnumerateObject().Any() ? " " + g.GetRawText() : "";
        return $"[{Get("event").ToUpperInvariant()}] {Get("rule_name")}{group}: {Get("condition")} " +
            $"(value {Get("value")})";
    }

    public static string Plain(string payload)
    {
        using var doc = JsonDocument.Parse(payload);
        return Subject(payload) + "\n\n" + JsonSerializer.Serialize(doc.RootElement,
            new JsonSerializerOptions { WriteIndented = true });
    }
}
