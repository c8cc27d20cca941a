using MoleSignal.Grains.Abstractions.Query;

namespace MoleSignal.Grains.Alerts;

/// <summary>The outcome of a query run for a rule window or a report: its value, or the error it is recorded
/// with (and whether that error is the timeout).</summary>
public readonly record struct Bounded<T>(T? Value, string? Error, bool TimedOut);

/// <summary>
/// Runs the queries of rule windows, backtests and reports under <c>eval_timeout_secs</c>. The query's own
/// failure (the engine's error, a result that does not fit the rule, the timeout) becomes the recorded error;
/// the node stopping is not caught. The engine reports a cancelled query as its own error, so the timeout is
/// known by its token, not by the exception.
/// </summary>
public static class BoundedQuery
{
    public static async Task<Bounded<T>> RunAsync<T>(Func<CancellationToken, Task<T>> run, TimeSpan timeout,
        CancellationToken stopping)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        bound.CancelAfter(timeout);
        try
        {
            return new Bounded<T>(await run(bound.Token), null, false);
        }
        catch (Exception e) when (e is QueryException or AlertEvaluationException
            || (e is OperationCanceledException && !stopping.IsCancellationRequested))
        {
            return bound.IsCancellationRequested
                ? new Bounded<T>(default, $"the query ran past eval_timeout_secs ({timeout.TotalSeconds:0} s) " +
                    "and was cancelled", true)
                : new Bounded<T>(default, e is QueryException q ? $"{q.Code}: {q.Message}" : e.Message, false);
        }
    }
}
