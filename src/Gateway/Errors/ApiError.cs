namespace MoleSignal.Gateway.Errors;

/// <summary>Every error body: <c>{"error": "&lt;code&gt;", "message": "&lt;human text&gt;"}</c>.</summary>
public sealed record ApiError(string Error, string Message)
{
    public static IResult Result(int status, string error, string message) =>
        Results.Json(new ApiError(error, message), GatewayJson.Options, statusCode: status);
}
