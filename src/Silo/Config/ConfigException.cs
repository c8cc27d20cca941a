namespace MoleSignal.Silo.Config;

/// <summary>A config problem; the message names the key. Startup prints it and exits non-zero.</summary>
public sealed class ConfigException(string message) : Exception(message);
