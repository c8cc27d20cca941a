namespace MoleSignal.Tests.Support;

/// <summary>Waiting without sleeping blindly: poll a condition until it holds or a deadline passes.</summary>
public static class Poll
{
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan deadline, string what)
    {
        var until = DateTime.UtcNow + deadline;
        T last = default!;
        Exception? lastError = null;
        while (DateTime.UtcNow < until)
        {
            try
            {
                last = await probe();
                if (done(last)) return last;
                lastError = null;
            }
            catch (Exception e)
            {
                lastError = e;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"{what} did not happen within {deadline.TotalSeconds}s (last: {(lastError?.Message ?? last?.ToString())})");
    }

    public static Task UntilAsync(Func<bool> done, TimeSpan deadline, string what) =>
        UntilAsync(() => Task.FromResult(done()), d => d, deadline, what);
}
