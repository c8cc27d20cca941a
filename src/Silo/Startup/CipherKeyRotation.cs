using MoleSignal.Grains.Metadata;
using MoleSignal.Grains.Secrets;
using MoleSignal.Silo.Config;

namespace MoleSignal.Silo.Startup;

/// <summary>
/// <c>molesignal rotate-cipher-key</c>: re-wraps every stored secret's data key from MS_CIPHER_KEY (unset: the dev
/// key) to MS_CIPHER_KEY_NEW in one transaction; restart the nodes with the new key as MS_CIPHER_KEY afterwards.
/// </summary>
public static class CipherKeyRotation
{
    public const string NewKeyVariable = "MS_CIPHER_KEY_NEW";

    public static async Task<int> RunAsync(MoleSignalConfig config)
    {
        MasterKey from, to;
        try
        {
            from = MasterKey.From(config.Secrets.CipherKey);
            var next = Environment.GetEnvironmentVariable(NewKeyVariable);
            if (string.IsNullOrEmpty(next)) throw new FormatException($"{NewKeyVariable} is not set");
            to = MasterKey.From(next);
            if (to.IsDev) throw new FormatException($"{NewKeyVariable} is the all-zero dev key");
        }
        catch (FormatException e)
        {
            await Console.Error.WriteLineAsync($"molesignal rotate-cipher-key: {e.Message}");
            return 2;
        }
        await using var meta = StoreFactory.CreateMetaStore(config);
        await MigrationRunner.ApplyAsync(meta);
        var n = await SecretStore.RotateAsync(meta, from, to, CancellationToken.None);
        Console.WriteLine($"molesignal rotate-cipher-key: re-wrapped {n} secrets from key {from.Id} to key {to.Id}");
        return 0;
    }
}
