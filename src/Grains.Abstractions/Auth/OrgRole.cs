namespace MoleSignal.Grains.Abstractions.Auth;

/// <summary>A member's role in one org. Each role allows what the roles before it allow, except ingest.</summary>
public enum OrgRole : byte
{
    /// <summary>Ingest only: what shippers' tokens get.</summary>
    Ingester,

    /// <summary>Query and read.</summary>
    Viewer,

    /// <summary>Ingest, query, and write alerts, reports and saved searches.</summary>
    Editor,

    /// <summary>Everything in the org: members, tokens, secrets, settings; quotas to read.</summary>
    Admin,
}

/// <summary>What a route needs of the principal in the org it acts on.</summary>
public enum Permission : byte
{
    Ingest,
    Read,
    Write,
    Admin,

    /// <summary>The root user only (orgs, quotas, the cluster's view).</summary>
    Root,
}

/// <summary>The role names of the API and the tables, and which role allows what: the one home of both.</summary>
public static class OrgRoles
{
    public static string Name(OrgRole role) => role switch
    {
        OrgRole.Ingester => "ingester",
        OrgRole.Viewer => "viewer",
        OrgRole.Editor => "editor",
        _ => "admin",
    };

    public static bool TryParse(string? name, out OrgRole role)
    {
        switch (name?.ToLowerInvariant())
        {
            case "ingester": role = OrgRole.Ingester; return true;
            case "viewer": role = OrgRole.Viewer; return true;
            case "editor": role = OrgRole.Editor; return true;
            case "admin": role = OrgRole.Admin; return true;
            default: role = default; return false;
        }
    }

    public const string Names = "admin, editor, viewer or ingester";

    public static bool Allows(OrgRole role, Permission permission) => permission switch
    {
        Permission.Ingest => role is OrgRole.Ingester or OrgRole.Editor or OrgRole.Admin,
        Permission.Read => role is OrgRole.Viewer or OrgRole.Editor or OrgRole.Admin,
        Permission.Write => role is OrgRole.Editor or OrgRole.Admin,
        Permission.Admin => role is OrgRole.Admin,
        _ => false,
    };
}
