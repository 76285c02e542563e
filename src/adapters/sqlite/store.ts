/** The Store port on SQLite: one repository per concern, all on the backend's connection. */
import type { Clock } from '../../ports/clock.ts';
import type { Store } from '../../ports/store.ts';
import { SqliteCheckpointRepository } from './checkpoints.ts';
import { SqliteConflictRepository } from './conflicts.ts';
import { SqliteConnectorStateRepository } from './connector-state.ts';
import type { SqliteDatabase } from './database.ts';
import { SqliteWriteLedger } from './ledger.ts';
import { SqliteLinkRepository } from './links.ts';
import { SqliteRunRepository } from './runs.ts';

/** Store on SQLite. */
export class SqliteStore implements Store {
  readonly runs: SqliteRunRepository;
  readonly links: SqliteLinkRepository;
  readonly conflicts: SqliteConflictRepository;
  readonly ledger: SqliteWriteLedger;
  readonly checkpoints: SqliteCheckpointRepository;
  readonly connectorState: SqliteConnectorStateRepository;
  readonly #db: SqliteDatabase;

  constructor(database: SqliteDatabase, clock: Clock) {
    this.#db = database;
    this.runs = new SqliteRunRepository(database);
    this.links = new SqliteLinkRepository(database, clock);
    this.conflicts = new SqliteConflictRepository(database, clock);
    this.ledger = new SqliteWriteLedger(database);
    this.checkpoints = new SqliteCheckpointRepository(database, clock);
    this.connectorState = new SqliteConnectorStateRepository(database, clock);
  }

  ping(): Promise<void> {
    return this.#db.autocommit(() => {
      this.#db.get('SELECT 1 AS ok');
    });
  }
}
