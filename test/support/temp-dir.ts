/** Temporary folders for tests, removed with everything in them when the test is done. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A folder created now under the OS temp folder. */
export interface TempDir {
  readonly path: string;
  /** Deletes the folder and its contents; safe to call twice. */
  remove(): void;
}

/** Creates a fresh folder whose name starts with `prefix`. */
export function makeTempDir(prefix = 'crmsync-test-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
