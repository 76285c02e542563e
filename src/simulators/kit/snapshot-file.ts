/**
 * The optional JSON file a simulator's state lives in between runs: read once on start, written after
 * changes (many changes in one turn of the event loop cost one write) and on close. Each write goes to a
 * temporary file first and is then renamed over the old one, so a crash never leaves half a file behind.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { ConfigError } from '../../core/errors.ts';

/** Every snapshot carries the version of its format. */
export interface VersionedSnapshot {
  readonly version: number;
}

/** What a {@link SnapshotFile} needs. */
export interface SnapshotFileOptions<T extends VersionedSnapshot> {
  /** The file; undefined makes every method a no-op (state in memory only). */
  readonly path: string | undefined;
  /** Names the simulator in error messages, e.g. `EspoCRM simulator`. */
  readonly owner: string;
  /** The format version written, and the only one read. */
  readonly version: T['version'];
  /** Top-level keys a readable file must have besides `version`. */
  readonly requiredKeys?: readonly Exclude<keyof T & string, 'version'>[];
  /** Builds what is written, at write time. */
  readonly snapshot: () => T;
}

/** A snapshot file. */
export class SnapshotFile<T extends VersionedSnapshot> {
  readonly #options: SnapshotFileOptions<T>;
  #pending: NodeJS.Immediate | undefined;

  constructor(options: SnapshotFileOptions<T>) {
    this.#options = options;
  }

  /**
   * The saved state, or undefined when there is no file (yet). A file that is not JSON, has another
   * version or lacks a required key throws a ConfigError saying so: it was not written by this simulator.
   */
  read(): T | undefined {
    const { path, owner, version } = this.#options;
    if (path === undefined || !existsSync(path)) return undefined;
    const fail = (what: string, problem: string) =>
      new ConfigError(`${owner} state file ${path} ${what}; fix or delete it, or pick another persistFile.`, [
        { path: 'persistFile', message: problem },
      ]);
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw fail(`is not valid JSON (${(error as Error).message})`, 'not valid JSON');
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data))
      throw fail('does not hold a JSON object', 'not a JSON object');
    const saved = data as Record<string, unknown>;
    if (saved['version'] !== version)
      throw fail(
        `has version ${JSON.stringify(saved['version'])}, expected ${String(version)}`,
        'unsupported version',
      );
    const missing = (this.#options.requiredKeys ?? []).filter((key) => saved[key] === undefined);
    if (missing.length > 0) throw fail(`lacks ${missing.join(', ')}`, `missing ${missing.join(', ')}`);
    return data as T;
  }

  /** Writes on the next turn of the event loop (once for all changes of this turn). */
  schedule(): void {
    if (this.#options.path !== undefined && this.#pending === undefined)
      this.#pending = setImmediate(() => this.flush());
  }

  /** Writes now (and cancels a scheduled write). */
  flush(): void {
    if (this.#pending !== undefined) clearImmediate(this.#pending);
    this.#pending = undefined;
    const { path } = this.#options;
    if (path === undefined) return;
    writeFileSync(`${path}.tmp`, JSON.stringify(this.#options.snapshot()));
    renameSync(`${path}.tmp`, path);
  }
}

/**
 * Schedules a write of `file` after every successful request that may have changed something (any method
 * but GET answered below 400: API writes, token grants, admin calls); reads change nothing.
 */
export function persistAfterWrites(app: FastifyInstance, file: { schedule(): void }): void {
  app.addHook('onResponse', (request, reply, done) => {
    if (request.method !== 'GET' && reply.statusCode < 400) file.schedule();
    done();
  });
}
