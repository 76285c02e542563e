/**
 * What starting any simulator in the sandbox involves: its persist file's folder created, and a port conflict
 * turned into an error that says what to do.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SandboxError } from './errors.ts';

/** The persist file as an absolute path, its folder created (./data does not exist before the first start). */
export function persistPath(persistFile: string | undefined): string | undefined {
  if (persistFile === undefined) return undefined;
  const path = resolve(persistFile);
  mkdirSync(dirname(path), { recursive: true });
  return path;
}

/**
 * Runs `start`, turning a port conflict into SANDBOX_PORT_IN_USE. `remedy` says how to pick another port
 * (the config key or the command option).
 */
export async function listening<T>(
  name: string,
  port: number,
  remedy: string,
  start: () => Promise<T>,
): Promise<T> {
  try {
    return await start();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new SandboxError(
        'SANDBOX_PORT_IN_USE',
        `The ${name} simulator cannot listen on port ${port}: it is in use (is the demo or crmsync sandbox running already?). Stop that process, or ${remedy} (0 picks a free one).`,
        { cause: error },
      );
    throw error;
  }
}
