/**
 * The SQLite file holds cached access tokens: it and its -wal and -shm files are readable by their owner
 * only, whether crmsync creates the file or finds it with wider permissions.
 */
import assert from 'node:assert/strict';
import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import type { TestContext } from 'node:test';
import { openSqliteBackend } from '../../src/adapters/sqlite/index.ts';
import { makeTempDir } from '../support/temp-dir.ts';

const modeOf = (file: string) => statSync(file).mode & 0o777;

/** A temp folder with the usual umask 022, under which files are created world-readable by default. */
function setup(t: TestContext): string {
  const previous = process.umask(0o022);
  const temp = makeTempDir('crmsync-sqlite-mode-');
  t.after(() => {
    process.umask(previous);
    temp.remove();
  });
  return join(temp.path, 'crmsync.db');
}

/** Opens the file, writes (so the -wal and -shm files exist), and leaves it open while `check` runs. */
async function whileOpen(path: string, check: () => void): Promise<void> {
  const backend = openSqliteBackend({ path, durability: 'process' });
  try {
    await backend.store.connectorState.set('c', 'token', 'secret');
    check();
  } finally {
    await backend.close();
  }
}

it('creates the database file and its -wal and -shm files with mode 0600', async (t) => {
  const path = setup(t);
  await whileOpen(path, () => {
    for (const file of [path, `${path}-wal`, `${path}-shm`]) assert.equal(modeOf(file), 0o600, file);
  });
});

it('tightens an existing database file that others may read to 0600', async (t) => {
  const path = setup(t);
  await whileOpen(path, () => {});
  chmodSync(path, 0o644);
  writeFileSync(`${path}-shm`, '');
  chmodSync(`${path}-shm`, 0o666);
  await whileOpen(path, () => {
    for (const file of [path, `${path}-wal`, `${path}-shm`]) assert.equal(modeOf(file), 0o600, file);
  });
});
