/**
 * The SQLite schema, as numbered migrations. A migration is never edited once released: every change to the
 * schema is a new migration appended to the list, so any older file upgrades step by step on open.
 * Applied versions are recorded in `schema_migrations`.
 */
import { StorageError } from '../../core/errors.ts';
import type { SqliteDatabase } from './database.ts';

/** One schema change. */
export interface Migration {
  /** 1, 2, 3, ...: applied in this order, each at most once. */
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

// Job states are spelled out in the partial indexes: SQLite uses a partial index only when the query repeats
// its WHERE term, so queue.ts uses exactly the same `state IN ('PENDING', 'FAILED')`.
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'queue',
    sql: `
      CREATE TABLE jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        flow TEXT NOT NULL,
        record_key TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('PENDING', 'PROCESSING', 'COMPLETED', 'SKIPPED', 'FAILED', 'DEAD')),
        input_count INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER NOT NULL,
        run_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        last_error_code TEXT,
        last_error_message TEXT,
        lease_owner TEXT,
        lease_token TEXT,
        lease_until INTEGER
      );
      -- One waiting and one processing job per record: the queue's central invariant, enforced by the file.
      CREATE UNIQUE INDEX jobs_one_waiting_per_record ON jobs (record_key) WHERE state IN ('PENDING', 'FAILED');
      CREATE UNIQUE INDEX jobs_one_processing_per_record ON jobs (record_key) WHERE state = 'PROCESSING';
      CREATE INDEX jobs_due ON jobs (run_at, id) WHERE state IN ('PENDING', 'FAILED');
      CREATE INDEX jobs_leases ON jobs (lease_until) WHERE state = 'PROCESSING';
      CREATE INDEX jobs_by_state ON jobs (state, updated_at);
      CREATE INDEX jobs_by_flow ON jobs (flow, id);
      CREATE INDEX jobs_by_record ON jobs (record_key, id);

      -- Payloads live in their own rows so that coalescing appends a small row instead of rewriting a growing
      -- array; the row id (always above every existing one) keeps them in arrival order.
      CREATE TABLE job_payloads (
        id INTEGER PRIMARY KEY,
        job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        payload TEXT NOT NULL
      );
      CREATE INDEX job_payloads_by_job ON job_payloads (job_id, id);

      CREATE TABLE job_dedup_keys (
        dedup_key TEXT PRIMARY KEY,
        job_id INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX job_dedup_keys_by_job ON job_dedup_keys (job_id);
      CREATE INDEX job_dedup_keys_by_age ON job_dedup_keys (created_at);
    `,
  },
  {
    version: 2,
    name: 'locks',
    sql: `
      CREATE TABLE locks (
        key TEXT PRIMARY KEY,
        token TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: 'store',
    sql: `
      CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id TEXT NOT NULL,
        flow TEXT NOT NULL,
        ref_connection TEXT NOT NULL,
        ref_entity_type TEXT NOT NULL,
        ref_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        outcome TEXT CHECK (outcome IN ('COMPLETED', 'SKIPPED', 'FAILED', 'CONFLICT')),
        reason TEXT,
        error_code TEXT,
        error_message TEXT,
        changes TEXT NOT NULL DEFAULT '[]',
        api_calls INTEGER NOT NULL DEFAULT 0,
        display_name TEXT,
        owner_name TEXT,
        started_at INTEGER NOT NULL,
        finished_at INTEGER
      );
      CREATE INDEX runs_by_job ON runs (job_id, id);
      CREATE INDEX runs_by_flow ON runs (flow, id);
      CREATE INDEX runs_by_ref ON runs (ref_connection, ref_entity_type, ref_id, id);
      CREATE INDEX runs_by_age ON runs (coalesce(finished_at, started_at));

      CREATE TABLE links (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        flow TEXT NOT NULL,
        a_connection TEXT NOT NULL,
        a_entity_type TEXT NOT NULL,
        a_id TEXT NOT NULL,
        a_base TEXT,
        a_version TEXT,
        b_connection TEXT NOT NULL,
        b_entity_type TEXT NOT NULL,
        b_id TEXT NOT NULL,
        b_base TEXT,
        b_version TEXT,
        status TEXT NOT NULL CHECK (status IN ('clean', 'pending', 'failed', 'conflict', 'deleted')),
        retry_count INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        last_synced_at INTEGER,
        revision INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      -- A record ref belongs to at most one link per flow.
      CREATE UNIQUE INDEX links_by_a ON links (flow, a_connection, a_entity_type, a_id);
      CREATE UNIQUE INDEX links_by_b ON links (flow, b_connection, b_entity_type, b_id);
      CREATE INDEX links_by_status ON links (flow, status, id);

      CREATE TABLE write_ledger (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ref_connection TEXT NOT NULL,
        ref_entity_type TEXT NOT NULL,
        ref_id TEXT NOT NULL,
        field TEXT NOT NULL,
        value_hash TEXT NOT NULL,
        version TEXT,
        run_id TEXT,
        written_at INTEGER NOT NULL
      );
      CREATE INDEX write_ledger_by_ref ON write_ledger (ref_connection, ref_entity_type, ref_id, written_at);
      CREATE INDEX write_ledger_by_age ON write_ledger (written_at);

      CREATE TABLE checkpoints (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE connector_state (
        connection TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        expires_at INTEGER,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (connection, key)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 4,
    name: 'serving without linear work',
    sql: `
      -- Jobs per state, kept exact by triggers in the transaction of every change, so that counts() (the
      -- /metrics gauge, read at every scrape) reads six rows instead of scanning the queue.
      CREATE TABLE job_counts (
        state TEXT PRIMARY KEY,
        count INTEGER NOT NULL
      ) WITHOUT ROWID;
      INSERT INTO job_counts (state, count)
        SELECT column1, (SELECT count(*) FROM jobs WHERE jobs.state = column1)
        FROM (VALUES ('PENDING'), ('PROCESSING'), ('COMPLETED'), ('SKIPPED'), ('FAILED'), ('DEAD'));
      CREATE TRIGGER jobs_count_insert AFTER INSERT ON jobs BEGIN
        UPDATE job_counts SET count = count + 1 WHERE state = NEW.state;
      END;
      CREATE TRIGGER jobs_count_delete AFTER DELETE ON jobs BEGIN
        UPDATE job_counts SET count = count - 1 WHERE state = OLD.state;
      END;
      CREATE TRIGGER jobs_count_update AFTER UPDATE OF state ON jobs WHEN OLD.state IS NOT NEW.state BEGIN
        UPDATE job_counts SET count = count - 1 WHERE state = OLD.state;
        UPDATE job_counts SET count = count + 1 WHERE state = NEW.state;
      END;

      -- Lists walk an index in their own order and stop at the limit, never sorting every match: jobs of a
      -- state newest first; runs newest first by start time, under each filter of runs list.
      CREATE INDEX jobs_by_state_id ON jobs (state, id);
      DROP INDEX runs_by_job;
      DROP INDEX runs_by_flow;
      DROP INDEX runs_by_ref;
      CREATE INDEX runs_by_start ON runs (started_at);
      CREATE INDEX runs_by_job ON runs (job_id, started_at);
      CREATE INDEX runs_by_flow ON runs (flow, started_at);
      CREATE INDEX runs_by_ref ON runs (ref_connection, ref_entity_type, ref_id, started_at);
      CREATE INDEX runs_by_outcome ON runs (outcome, started_at);

      -- Retention finds expired locks and connector state without a scan.
      CREATE INDEX locks_by_expiry ON locks (expires_at);
      CREATE INDEX connector_state_by_expiry ON connector_state (expires_at) WHERE expires_at IS NOT NULL;
    `,
  },
  {
    version: 5,
    name: 'run intents',
    // The field changes a run was about to write, recorded before the vendor write (see RunContext).
    sql: `ALTER TABLE runs ADD COLUMN intended_changes TEXT NOT NULL DEFAULT '[]';`,
  },
  {
    version: 6,
    name: 'ledger intents and lock fences',
    sql: `
      -- Ledger entries are intents before the vendor write, confirmed by the outcome commit, consumed once
      -- they matched an echo, superseded when a later link save accounts for them (see WriteLedger).
      -- Entries from before this migration were written after the vendor write: confirmed.
      ALTER TABLE write_ledger ADD COLUMN state TEXT NOT NULL DEFAULT 'confirmed'
        CHECK (state IN ('intent', 'confirmed', 'consumed', 'superseded'));
      ALTER TABLE write_ledger ADD COLUMN closed_at INTEGER;
      -- Echo matching reads the open entries of one record, newest first.
      CREATE INDEX write_ledger_open_by_ref ON write_ledger (ref_connection, ref_entity_type, ref_id, written_at)
        WHERE state IN ('intent', 'confirmed');

      -- The last fence issued per lock key (Locks.acquireFenced). Never pruned: a reset counter would let a
      -- stalled holder's old fence pass again. One small row per fenced key (per link).
      CREATE TABLE lock_fences (
        key TEXT PRIMARY KEY,
        fence INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 7,
    name: 'conflict inbox and link deletions',
    sql: `
      -- The soft-delete mark of a link (LinkDeletion): all four columns null while both records exist.
      ALTER TABLE links ADD COLUMN deletion_side TEXT CHECK (deletion_side IN ('a', 'b'));
      ALTER TABLE links ADD COLUMN deletion_detected_at INTEGER;
      ALTER TABLE links ADD COLUMN deletion_applied TEXT CHECK (deletion_applied IN ('deleted', 'flagged'));
      ALTER TABLE links ADD COLUMN deletion_applied_at INTEGER;
      -- The grace-period sweep walks the few links whose deletion waits, in id order (links.ts repeats the
      -- WHERE term so that SQLite uses this partial index).
      CREATE INDEX links_deletion_pending ON links (flow, id)
        WHERE deletion_side IS NOT NULL AND deletion_applied IS NULL;

      CREATE TABLE conflicts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        flow TEXT NOT NULL,
        link_id INTEGER NOT NULL REFERENCES links (id),
        field TEXT NOT NULL,
        item TEXT,
        attribute TEXT,
        -- JSON of [field, item, attribute]: one injective key of the conflict's place in the record, so that
        -- a unique index can hold "one pending conflict per place" (NULLs are distinct in a UNIQUE index).
        slot TEXT NOT NULL,
        value_a TEXT NOT NULL,
        value_b TEXT NOT NULL,
        base_a TEXT NOT NULL,
        base_b TEXT NOT NULL,
        policy TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('a', 'b', 'parked')),
        status TEXT NOT NULL CHECK (status IN ('open', 'resolved', 'closed')),
        resolution TEXT,
        run_id TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      -- Every merge reports a parked conflict again until it is resolved: the inbox holds it once.
      CREATE UNIQUE INDEX conflicts_one_pending_per_slot ON conflicts (link_id, slot)
        WHERE status IN ('open', 'resolved');
      -- Lists walk an index in id order under each filter; retention finds closed conflicts by age.
      CREATE INDEX conflicts_by_flow ON conflicts (flow, id);
      CREATE INDEX conflicts_by_flow_status ON conflicts (flow, status, id);
      CREATE INDEX conflicts_by_status ON conflicts (status, id);
      CREATE INDEX conflicts_by_link ON conflicts (link_id, id);
      CREATE INDEX conflicts_closed_by_age ON conflicts (updated_at) WHERE status = 'closed';

      -- Links and conflicts per flow and status, kept exact by triggers in the transaction of every change
      -- (as job_counts), so countByStatus and count read a few rows instead of every link of a flow.
      CREATE TABLE link_counts (
        flow TEXT NOT NULL,
        status TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (flow, status)
      ) WITHOUT ROWID;
      INSERT INTO link_counts (flow, status, count) SELECT flow, status, count(*) FROM links GROUP BY flow, status;
      CREATE TRIGGER links_count_insert AFTER INSERT ON links BEGIN
        INSERT INTO link_counts (flow, status, count) VALUES (NEW.flow, NEW.status, 1)
          ON CONFLICT (flow, status) DO UPDATE SET count = count + 1;
      END;
      CREATE TRIGGER links_count_delete AFTER DELETE ON links BEGIN
        UPDATE link_counts SET count = count - 1 WHERE flow = OLD.flow AND status = OLD.status;
      END;
      CREATE TRIGGER links_count_update AFTER UPDATE OF flow, status ON links
        WHEN OLD.flow IS NOT NEW.flow OR OLD.status IS NOT NEW.status BEGIN
        UPDATE link_counts SET count = count - 1 WHERE flow = OLD.flow AND status = OLD.status;
        INSERT INTO link_counts (flow, status, count) VALUES (NEW.flow, NEW.status, 1)
          ON CONFLICT (flow, status) DO UPDATE SET count = count + 1;
      END;

      CREATE TABLE conflict_counts (
        flow TEXT NOT NULL,
        status TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (flow, status)
      ) WITHOUT ROWID;
      CREATE TRIGGER conflicts_count_insert AFTER INSERT ON conflicts BEGIN
        INSERT INTO conflict_counts (flow, status, count) VALUES (NEW.flow, NEW.status, 1)
          ON CONFLICT (flow, status) DO UPDATE SET count = count + 1;
      END;
      CREATE TRIGGER conflicts_count_delete AFTER DELETE ON conflicts BEGIN
        UPDATE conflict_counts SET count = count - 1 WHERE flow = OLD.flow AND status = OLD.status;
      END;
      CREATE TRIGGER conflicts_count_update AFTER UPDATE OF flow, status ON conflicts
        WHEN OLD.flow IS NOT NEW.flow OR OLD.status IS NOT NEW.status BEGIN
        UPDATE conflict_counts SET count = count - 1 WHERE flow = OLD.flow AND status = OLD.status;
        INSERT INTO conflict_counts (flow, status, count) VALUES (NEW.flow, NEW.status, 1)
          ON CONFLICT (flow, status) DO UPDATE SET count = count + 1;
      END;
    `,
  },
];

/**
 * Applies the migrations `database` has not seen yet, each in its own write transaction. Safe when several
 * processes open the same file at once: the applied versions are re-read under the write lock.
 * Refuses a file migrated by a newer crmsync, whose schema this code does not know.
 * Returns the versions applied now.
 */
export function migrate(
  database: SqliteDatabase,
  now: number,
  migrations: readonly Migration[] = MIGRATIONS,
): number[] {
  database.transactionSync(() =>
    database.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at INTEGER NOT NULL
    )`),
  );
  const known = Math.max(0, ...migrations.map((migration) => migration.version));
  const newest = Math.max(0, ...appliedVersions(database));
  if (newest > known) {
    throw new StorageError(
      `${database.path} has schema version ${newest}, newer than this crmsync knows (${known}); upgrade crmsync.`,
    );
  }
  const applied: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    database.transactionSync(() => {
      const seen = database.get(
        'SELECT 1 AS seen FROM schema_migrations WHERE version = ?',
        migration.version,
      );
      if (seen !== undefined) return;
      database.exec(migration.sql);
      database.run(
        'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
        migration.version,
        migration.name,
        now,
      );
      applied.push(migration.version);
    });
  }
  return applied;
}

/** Versions recorded in `schema_migrations`, ascending. */
function appliedVersions(database: SqliteDatabase): number[] {
  return database.transactionSync(() =>
    database
      .all<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')
      .map((row) => row.version),
  );
}
