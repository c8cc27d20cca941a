using Grpc.Core;
using Grpc.Core.Interceptors;
using MoleSignal.Grains.Abstractions.Auth;

namespace MoleSignal.Gateway.Auth;

/// <summary>
/// The gRPC port's gate: every call but the health service needs the same credentials as HTTP (metadata
/// <c>authorization</c>) and a role in the org of <c>organization</c> or <c>x-org-id</c>; else UNAUTHENTICATED or
/// PERMISSION_DENIED. A service then asks <see cref="Require"/> for the permission it needs.
/// </summary>
public sealed class GrpcAuthInterceptor(IAuthenticator auth) : Interceptor
{
    public const string HealthService = "/grpc.health.v1.Health/";
    private const string PrincipalKey = "molesignal.principal";
    private const string OrgKey = "molesignal.org";

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request,
        ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        await GateAsync(context);
        return await continuation(request, context);
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await GateAsync(context);
        return await continuation(requestStream, context);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request,
        IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await GateAsync(context);
        await continuation(request, responseStream, context);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await GateAsync(context);
        await continuation(requestStream, responseStream, context);
    }

    /// <summary>The principal the gate resolved for this call.</summary>
    public static Principal Principal(ServerCallContext context) =>
        context.UserState[PrincipalKey] as Principal
            ?? throw new InvalidOperationException("the call passed no auth gate");

    private async Task GateAsync(ServerCallContext context)
    {
        if (context.Method.StartsWith(HealthService, StringComparison.Ordinal)) return;
        var http = context.GetHttpContext();
        var outcome = await auth.AuthenticateAsync(context.RequestHeaders.GetValue("authorization"),
            RequestAuth.Client(http),
            context.CancellationToken);
        if (outcome.Principal is not { } principal)
            throw new RpcException(new Status(StatusCode.Unauthenticated, "credentials required or not valid"));
        // OTLP exporters configured for OpenObserve name the org in "organization".
        var org = Ingest.NameRules.Normalize(context.RequestHeaders.GetValue("organization")
                                             ?? context.RequestHeaders.GetValue("x-org-id") ?? "default");
        if (org is null || !principal.IsMemberOf(org))
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"no role in org '{org}'"));
        context.UserState[PrincipalKey] = principal;
        context.UserState[OrgKey] = org;
    }

    /// <summary>The call's org and principal, when the principal has <paramref name="permission"/> there; else
    /// PERMISSION_DENIED.</summary>
    public static (string Org, Principal Principal) Require(ServerCallContext context, Permission permission)
    {
        var principal = Principal(context);
        var org = (string)context.UserState[OrgKey];
        if (!principal.Allows(org, permission))
            throw new RpcException(new Status(StatusCode.PermissionDenied,
                $"{principal.Actor} may not {permission.ToString().ToLowerInvariant()} in org '{org}'"));
        return (org, principal);
    }
}
