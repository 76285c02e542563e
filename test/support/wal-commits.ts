/**
 * Counts the transactions SQLite has committed to a database's write-ahead log, by reading the WAL file as
 * SQLite wrote it: every commit ends with a "commit frame" (a frame header whose second field, the database
 * size after the commit, is not zero). Frames count while their salts match the WAL header's; SQLite
 * rewrites the WAL from the start after a checkpoint, with new salts, so tests compare counts taken while
 * no checkpoint runs (a small test database stays far below the 1,000-page auto-checkpoint).
 * Format: https://www.sqlite.org/fileformat.html#the_write_ahead_log
 */
import { existsSync, readFileSync } from 'node:fs';

const WAL_HEADER_BYTES = 32;
const FRAME_HEADER_BYTES = 24;

/** Number of committed transactions in `<databasePath>-wal` (0 when there is no WAL file). */
export function walCommitCount(databasePath: string): number {
  const walPath = `${databasePath}-wal`;
  if (!existsSync(walPath)) return 0;
  const wal = readFileSync(walPath);
  if (wal.length < WAL_HEADER_BYTES) return 0;
  const pageSize = wal.readUInt32BE(8);
  const salt1 = wal.readUInt32BE(16);
  const salt2 = wal.readUInt32BE(20);
  let commits = 0;
  for (
    let offset = WAL_HEADER_BYTES;
    offset + FRAME_HEADER_BYTES + pageSize <= wal.length;
    offset += FRAME_HEADER_BYTES + pageSize
  ) {
    if (wal.readUInt32BE(offset + 8) !== salt1 || wal.readUInt32BE(offset + 12) !== salt2) break;
    if (wal.readUInt32BE(offset + 4) !== 0) commits += 1;
  }
  return commits;
}
