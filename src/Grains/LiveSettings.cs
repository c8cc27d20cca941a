namespace MoleSignal.Grains;

/// <summary>A settings record that a config reload replaces whole; readers take <see cref="Current"/> each time.</summary>
public sealed class LiveSettings<T>(T initial) where T : class
{
    private volatile T _current = initial;

    public T Current => _current;

    public void Update(T next) => _current = next;
}
