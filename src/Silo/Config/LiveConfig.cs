using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Primitives;

namespace MoleSignal.Silo.Config;

/// <summary>
/// The effective config, re-bound when the TOML file changes. Mutable keys (rate limits, intervals) take effect
/// for whoever reads <see cref="Current"/> next; a change to an immutable key is logged and ignored until restart.
/// A file that no longer binds keeps the last good config.
/// </summary>
public sealed class LiveConfig : IDisposable
{
    private readonly IConfigurationRoot _root;
    private readonly ILogger<LiveConfig> _log;
    private readonly IDisposable _subscription;
    private readonly MoleSignalConfig _startup;
    private volatile MoleSignalConfig _current;

    public LiveConfig(IConfigurationRoot root, MoleSignalConfig startup, ILogger<LiveConfig> log)
    {
        _root = root;
        _log = log;
        _startup = startup;
        _current = startup;
        _subscription = ChangeToken.OnChange(root.GetReloadToken, Reload);
    }

    public MoleSignalConfig Current => _current;

    public event Action<MoleSignalConfig>? Changed;

    private void Reload()
    {
        MoleSignalConfig next;
        try
        {
            next = ConfigBinder.Bind(_root);
        }
        catch (ConfigException e)
        {
            _log.LogError("config reload rejected, keeping the previous config: {Reason}", e.Message);
            return;
        }
        foreach (var key in ConfigSchema.Keys.Values.Where(k => k.IsImmutable))
        {
            if (!SameValue(key.GetValue(_startup), key.GetValue(next)))
            {
                _log.LogWarning("config key '{Key}' is immutable at runtime: the change takes effect after a restart", key.Path);
                key.SetValue(next, key.GetValue(_startup));
            }
        }
        // Generated at startup, not present in the file.
        next.Node.Id = _startup.Node.Id;
        _current = next;
        _log.LogInformation("config reloaded");
        Changed?.Invoke(next);
    }

    private static bool SameValue(object? a, object? b) =>
        a is Array x && b is Array y ? x.Cast<object>().SequenceEqual(y.Cast<object>()) : Equals(a, b);

    public void Dispose() => _subscription.Dispose();
}
