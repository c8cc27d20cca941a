-- Orleans ADO.NET clustering (cluster mode on Postgres). The provider package ships no scripts: it reads the
-- statements it runs from OrleansQuery by key, binds @-parameters by name, and reads result columns by name.
-- Conditional writes bump the table version only when the caller's version is current (optimistic
-- concurrency of the membership protocol) and report 1 (done) or 0 (lost the race).
CREATE TABLE OrleansQuery (
    QueryKey VARCHAR(64) PRIMARY KEY,
    QueryText VARCHAR(8000) NOT NULL
);

CREATE TABLE OrleansMembershipVersionTable (
    DeploymentId VARCHAR(150) PRIMARY KEY,
    Timestamp TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    Version INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE OrleansMembershipTable (
    DeploymentId VARCHAR(150) NOT NULL REFERENCES OrleansMembershipVersionTable (DeploymentId),
    Address VARCHAR(45) NOT NULL,
    Port INTEGER NOT NULL,
    Generation INTEGER NOT NULL,
    SiloName VARCHAR(150) NOT NULL,
    HostName VARCHAR(150) NOT NULL,
    Status INTEGER NOT NULL,
    ProxyPort INTEGER NULL,
    SuspectTimes VARCHAR(8000) NULL,
    StartTime TIMESTAMPTZ(3) NOT NULL,
    IAmAliveTime TIMESTAMPTZ(3) NOT NULL,
    PRIMARY KEY (DeploymentId, Address, Port, Generation)
);

-- Bumps the version when it is still p_version; then inserts the silo's row (a duplicate row raises, which
-- rolls the bump back with the statement).
CREATE FUNCTION ms_orleans_insert_member(p_deployment VARCHAR, p_address VARCHAR, p_port INTEGER,
    p_generation INTEGER, p_silo_name VARCHAR, p_host_name VARCHAR, p_status INTEGER, p_proxy_port INTEGER,
    p_start_time TIMESTAMPTZ, p_alive_time TIMESTAMPTZ, p_version INTEGER) RETURNS INTEGER AS $body$
BEGIN
    UPDATE OrleansMembershipVersionTable SET Version = Version + 1, Timestamp = now()
    WHERE DeploymentId = p_deployment AND Version = p_version;
    IF NOT FOUND THEN RETURN 0; END IF;
    INSERT INTO OrleansMembershipTable (DeploymentId, Address, Port, Generation, SiloName, HostName, Status,
        ProxyPort, StartTime, IAmAliveTime)
    VALUES (p_deployment, p_address, p_port, p_generation, p_silo_name, p_host_name, p_status, p_proxy_port,
        p_start_time, p_alive_time);
    RETURN 1;
END
$body$ LANGUAGE plpgsql;

-- Bumps the version when it is still p_version; then updates the silo's row (a missing row raises).
CREATE FUNCTION ms_orleans_update_member(p_deployment VARCHAR, p_address VARCHAR, p_port INTEGER,
    p_generation INTEGER, p_status INTEGER, p_suspect_times VARCHAR, p_alive_time TIMESTAMPTZ,
    p_version INTEGER) RETURNS INTEGER AS $body$
BEGIN
    UPDATE OrleansMembershipVersionTable SET Version = Version + 1, Timestamp = now()
    WHERE DeploymentId = p_deployment AND Version = p_version;
    IF NOT FOUND THEN RETURN 0; END IF;
    UPDATE OrleansMembershipTable SET Status = p_status, SuspectTimes = p_suspect_times, IAmAliveTime = p_alive_time
    WHERE DeploymentId = p_deployment AND Address = p_address AND Port = p_port AND Generation = p_generation;
    IF NOT FOUND THEN RAISE EXCEPTION 'membership row % % % not found', p_address, p_port, p_generation; END IF;
    RETURN 1;
END
$body$ LANGUAGE plpgsql;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('InsertMembershipVersionKey', '
    WITH inserted AS (
        INSERT INTO OrleansMembershipVersionTable (DeploymentId) VALUES (@DeploymentId)
        ON CONFLICT (DeploymentId) DO NOTHING
        RETURNING 1)
    SELECT count(*)::INTEGER FROM inserted'),
('InsertMembershipKey', '
    SELECT ms_orleans_insert_member(@DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName,
        @Status, @ProxyPort, @StartTime, @IAmAliveTime, @Version)'),
('UpdateMembershipKey', '
    SELECT ms_orleans_update_member(@DeploymentId, @Address, @Port, @Generation, @Status, @SuspectTimes,
        @IAmAliveTime, @Version)'),
('UpdateIAmAlivetimeKey', '
    UPDATE OrleansMembershipTable SET IAmAliveTime = @IAmAliveTime
    WHERE DeploymentId = @DeploymentId AND Address = @Address AND Port = @Port AND Generation = @Generation'),
('MembershipReadRowKey', '
    SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
        m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
    FROM OrleansMembershipVersionTable v
    LEFT JOIN OrleansMembershipTable m ON m.DeploymentId = v.DeploymentId
        AND m.Address = @Address AND m.Port = @Port AND m.Generation = @Generation
    WHERE v.DeploymentId = @DeploymentId'),
('MembershipReadAllKey', '
    SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
        m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
    FROM OrleansMembershipVersionTable v
    LEFT JOIN OrleansMembershipTable m ON m.DeploymentId = v.DeploymentId
    WHERE v.DeploymentId = @DeploymentId'),
('GatewaysQueryKey', '
    SELECT Address, ProxyPort, Generation FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId AND Status = @Status AND ProxyPort > 0'),
('DeleteMembershipTableEntriesKey', '
    DELETE FROM OrleansMembershipTable WHERE DeploymentId = @DeploymentId;
    DELETE FROM OrleansMembershipVersionTable WHERE DeploymentId = @DeploymentId'),
('CleanupDefunctSiloEntriesKey', '
    DELETE FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId AND IAmAliveTime < @IAmAliveTime AND StartTime < @IAmAliveTime
        AND Status = 6'),
('CleanupDefunctSiloEntryKey', '
    DELETE FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId AND Status = 6 AND Address = @Address AND Port = @Port
        AND Generation = @Generation AND IAmAliveTime = @IAmAliveTime AND StartTime = @StartTime
        AND SuspectTimes IS NOT DISTINCT FROM @SuspectTimes');
