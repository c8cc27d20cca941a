using System.Text.Json;
using MoleSignal.Grains.Abstractions.Auth;

namespace MoleSignal.Gateway.Auth;

/// <summary>The small JSON bodies of the account and tenancy routes: at most 64 KiB, snake_case, errors as
/// 400.</summary>
public static class AdminBody
{
    public const int MaxBytes = 64 * 1024;

    public static async Task<T> ReadAsync<T>(HttpRequest request, CancellationToken ct) where T : class
    {
        if (request.ContentLength > MaxBytes) throw new AuthException(AuthErrorKind.Invalid,
            $"the body is over {MaxBytes} bytes");
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int n;
        while ((n = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + n > MaxBytes) throw new AuthException(AuthErrorKind.Invalid,
                $"the body is over {MaxBytes} bytes");
            buffer.Write(chunk, 0, n);
        }
        try
        {
            return JsonSerializer.Deserialize<T>(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), GatewayJson.Options)
                   ?? throw new AuthException(AuthErrorKind.Invalid, "the body is empty");
        }
        catch (JsonException e)
        {
            throw new AuthException(AuthErrorKind.Invalid, $"the body is not the expected JSON: {e.Message}");
        }
    }

    public static string Required(string? value, string field) =>
        string.IsNullOrEmpty(value) ? throw new AuthException(AuthErrorKind.Invalid, $"'{field}' is required") : value;

    public static OrgRole Role(string? name) => OrgRoles.TryParse(name, out var role)
        ? role
        : throw new AuthException(AuthErrorKind.Invalid, $"role is {OrgRoles.Names}");
}
