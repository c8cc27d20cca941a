using MoleSignal.Grains.Metadata;
using MoleSignal.Grains.Storage;
using MoleSignal.Silo.Config;

namespace MoleSignal.Silo.Startup;

/// <summary>Config sections to the engine's stores.</summary>
public static class StoreFactory
{
    public static IObjectStore CreateObjectStore(ObjectStoreSection c)
    {
        IObjectStore store = c.Backend switch
        {
            "local" => new LocalObjectStore(c.Root),
            "s3" => new S3ObjectStore(new S3StoreSettings(
                c.S3.Bucket, c.S3.Region, c.S3.Endpoint, c.S3.PathStyle, c.S3.Prefix, c.S3.ChecksumMode,
                c.S3.CredentialsFile, c.S3.Profile, c.S3.AccessKeyId, c.S3.SecretAccessKey)),
            "azure" => new AzureBlobObjectStore(new AzureStoreSettings(c.Azure.Container, c.Azure.Prefix, c.Azure.Endpoint,
                c.Azure.AccountName, c.Azure.AccountKey, c.Azure.SasToken, c.Azure.ConnectionString, c.Azure.CredentialsFile)),
            "gcs" => new GcsObjectStore(new GcsStoreSettings(c.Gcs.Bucket, c.Gcs.Prefix, c.Gcs.Endpoint,
                c.Gcs.CredentialsFile, c.Gcs.CredentialsJson)),
            _ => throw new ConfigException($"config key 'store.object.backend': '{c.Backend}' is not available in " +
                                           "this build (use local, s3, azure or gcs)"),
        };
        return new InstrumentedObjectStore(store);
    }

    public static MetaStore CreateMetaStore(MoleSignalConfig c)
    {
        var meta = c.Store.Meta;
        if (meta.Backend == "postgres")
        {
            try
            {
                return MetaStore.Postgres(meta.Dsn, meta.MaxConnections);
            }
            catch (FormatException e)
            {
                throw new ConfigException($"config key 'store.meta.dsn': {e.Message}");
            }
        }
        var path = string.IsNullOrWhiteSpace(meta.Dsn) ? Path.Combine(c.Node.DataDir, "meta.db") : meta.Dsn;
        return MetaStore.Sqlite(path);
    }
}
