-- Every StreamGrain activation takes the next epoch of its stream and numbers its WAL entries from
-- epoch << 32, so entries written by different activations (on different ingesters, after a failover) never
-- share a seq, and a data file's WAL range names exactly the entries it holds.
ALTER TABLE streams ADD COLUMN wal_epoch BIGINT NOT NULL DEFAULT 0;
