-- Orleans membership tables exist only on Postgres: on SQLite every node is its own one-silo cluster
-- (localhost clustering). The version is kept so both dialects number their migrations alike.
SELECT 1;
