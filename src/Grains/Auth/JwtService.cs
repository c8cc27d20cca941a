using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace MoleSignal.Grains.Auth;

/// <summary>HS256 session tokens from <c>POST /api/v1/auth/login</c>: subject, email, token version, expiry.</summary>
public sealed class JwtService(byte[] secret, TimeProvider clock)
{
    private const string Issuer = "molesignal", VersionClaim = "tv", EmailClaim = "email";

    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly SymmetricSecurityKey _key = new(secret);

    public (string Token, DateTimeOffset ExpiresAt) Issue(UserRow user, TimeSpan ttl)
    {
        var now = clock.GetUtcNow();
        var expires = now + ttl;
        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Subject = new ClaimsIdentity([new Claim("sub", user.UserId), new Claim(EmailClaim, user.Email)]),
            Claims = new Dictionary<string, object> { [VersionClaim] = user.TokenVersion },
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.HmacSha256),
        });
        return (token, expires);
    }

    /// <summary>The user id, token version and expiry of a valid token (HS256 only, signature, issuer, lifetime); else
    /// null.</summary>
    public async Task<(string UserId, int Version, DateTimeOffset Expires)?> ValidateAsync(string token)
    {
        var result = await _handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = Issuer,
            ValidateAudience = false,
            IssuerSigningKey = _key,
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = TimeSpan.FromSeconds(5),
            LifetimeValidator = (nbf, exp, _, _) =>
                exp is { } e && clock.GetUtcNow().UtcDateTime < e
                    && (nbf is null || nbf <= clock.GetUtcNow().UtcDateTime.AddSeconds(5)),
        });
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt) return null;
        if (!jwt.TryGetPayloadValue<string>("sub", out var sub) || !jwt.TryGetPayloadValue<int>(VersionClaim,
            out var tv))
            return null;
        return (sub, tv, new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero));
    }

    public static byte[] NewSecret() => RandomNumberGenerator.GetBytes(64);
}
