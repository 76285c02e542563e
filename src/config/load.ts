/**
 * Loading the configuration: find the file, read `.env`, import the file (Node runs the TypeScript directly),
 * resolve `env()` references, validate with zod, then validate each connection's options with its connector's
 * schema and each flow with its flow type. Every problem is collected with its path; one ConfigError carries
 * them all, so the operator fixes the file in one go.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ZodType } from 'zod';
import { ConfigError } from '../core/errors.ts';
import type { ConnectorFactory } from '../ports/connector.ts';
import { DEFAULTS } from './defaults.ts';
import { configSchema, connectionSchema, flowSchema } from './schema.ts';
import type { Config, ConnectionConfig, FlowConfig } from './schema.ts';
import { resolveEnvRefs } from './secrets.ts';

/** A flow type as far as configuration is concerned: its name and the schema of its own options. */
export interface FlowTypeSchema {
  readonly type: string;
  /** Validates the flow's settings other than `type` and `connections`. */
  readonly optionsSchema: ZodType<Record<string, unknown>>;
}

/** Where to find the config, and what kinds of connectors and flows exist. */
export interface LoadConfigOptions {
  /** Explicit file (from --config). */
  readonly file?: string;
  /** Environment to read (default process.env, after `.env` is loaded into it). */
  readonly environment?: NodeJS.ProcessEnv;
  /** Folder to resolve relative paths and find `.env` in (default the working directory). */
  readonly cwd?: string;
  readonly connectors: ReadonlyMap<string, ConnectorFactory<unknown>>;
  readonly flowTypes: ReadonlyMap<string, FlowTypeSchema>;
}

type Problem = { path: string; message: string };

/**
 * Finds the config file: --config, else $CRMSYNC_CONFIG, else ./crmsync.config.ts if present. Returns null
 * when none is named and the default file does not exist (defaults apply).
 */
export function findConfigFile(
  cwd: string,
  file: string | undefined,
  environment: NodeJS.ProcessEnv,
): string | null {
  const named = file ?? environment['CRMSYNC_CONFIG'];
  if (named !== undefined && named !== '') {
    const path = resolve(cwd, named);
    if (!existsSync(path)) {
      throw new ConfigError(`Config file ${path} does not exist. Pass an existing file with --config.`, [
        { path: '(file)', message: `not found: ${path}` },
      ]);
    }
    return path;
  }
  const fallback = resolve(cwd, DEFAULTS.configFile);
  return existsSync(fallback) ? fallback : null;
}

/** Loads `.env` from `cwd` into process.env if present. Values already set in the environment win. */
export function loadDotEnv(cwd: string): void {
  const path = resolve(cwd, '.env');
  if (!existsSync(path)) return;
  const before = { ...process.env };
  process.loadEnvFile(path);
  // loadEnvFile overwrites; the real environment must win over the file (12-factor), so put it back.
  Object.assign(process.env, before);
}

/** Loads, resolves and validates the configuration. Throws ConfigError listing every problem. */
export async function loadConfig(options: LoadConfigOptions): Promise<Config> {
  const cwd = options.cwd ?? process.cwd();
  if (options.environment === undefined) loadDotEnv(cwd);
  const environment = options.environment ?? process.env;
  const file = findConfigFile(cwd, options.file, environment);
  const raw = file === null ? {} : await importConfigFile(file);
  return validateConfig(raw, { ...options, environment, cwd }, file ?? 'defaults');
}

async function importConfigFile(file: string): Promise<unknown> {
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`Config file ${file} could not be loaded: ${reason}`, [
      { path: '(file)', message: reason },
    ]);
  }
  if (module.default === undefined) {
    throw new ConfigError(
      `Config file ${file} has no default export. Write: export default defineConfig({ ... })`,
      [{ path: '(file)', message: 'no default export' }],
    );
  }
  return module.default;
}

/** Validates an already imported config object (exported for tests and for programmatic use). */
export function validateConfig(
  raw: unknown,
  options: LoadConfigOptions & { environment: NodeJS.ProcessEnv; cwd: string },
  source: string,
): Config {
  const resolved = resolveEnvRefs(raw, options.environment);
  const problems: Problem[] = [...resolved.problems];
  // An unset variable also fails the schema at the same path; the env message is the useful one.
  const unsetPaths = new Set(resolved.problems.map((problem) => problem.path));
  const report = (path: readonly PropertyKey[], message: string) => {
    const formatted = formatPath(path);
    if (!unsetPaths.has(formatted)) problems.push({ path: formatted, message });
  };
  const parsed = configSchema.safeParse(resolved.value);
  if (!parsed.success) for (const issue of parsed.error.issues) report(issue.path, issue.message);
  // Connections and flows are checked even when other sections failed, so one run lists every problem.
  const rawSections = (parsed.success ? parsed.data : resolved.value) as {
    connections?: unknown;
    flows?: unknown;
  } | null;
  const rawConnections = entriesOf(rawSections?.connections);
  const connectionNames = new Set(rawConnections.map(([name]) => name));

  const connections = new Map<string, ConnectionConfig>();
  for (const [name, raw] of rawConnections) {
    const entry = connectionSchema.safeParse(raw);
    if (!entry.success) {
      for (const issue of entry.error.issues) report(['connections', name, ...issue.path], issue.message);
      continue;
    }
    const connection = entry.data;
    const factory = options.connectors.get(connection.connector);
    if (factory === undefined) {
      report(
        ['connections', name, 'connector'],
        `unknown connector "${connection.connector}"; known: ${[...options.connectors.keys()].join(', ')}`,
      );
      continue;
    }
    const checked = factory.optionsSchema.safeParse(connection.options ?? {});
    if (!checked.success) {
      for (const issue of checked.error.issues)
        report(['connections', name, 'options', ...issue.path], issue.message);
      continue;
    }
    connections.set(name, { name, connector: connection.connector, options: checked.data });
  }

  const flows = new Map<string, FlowConfig>();
  for (const [name, raw] of entriesOf(rawSections?.flows)) {
    const entry = flowSchema.safeParse(raw);
    if (!entry.success) {
      for (const issue of entry.error.issues) report(['flows', name, ...issue.path], issue.message);
      continue;
    }
    const { type, connections: sources, ...rest } = entry.data;
    for (const [index, source] of sources.entries()) {
      if (!connectionNames.has(source))
        report(['flows', name, 'connections', index], `no connection named "${source}"`);
    }
    const flowType = options.flowTypes.get(type);
    if (flowType === undefined) {
      report(
        ['flows', name, 'type'],
        `unknown flow type "${type}"; known: ${[...options.flowTypes.keys()].join(', ')}`,
      );
      continue;
    }
    const checked = flowType.optionsSchema.safeParse(rest);
    if (!checked.success) {
      for (const issue of checked.error.issues) report(['flows', name, ...issue.path], issue.message);
      continue;
    }
    flows.set(name, { name, type, connections: sources, options: checked.data });
  }

  if (!parsed.success) throw configError(source, problems);
  const base = parsed.data;
  if (base.server.token === undefined && !isLoopback(base.server.host)) {
    problems.push({
      path: 'server.token',
      message: `required when server.host (${base.server.host}) is not a loopback address: the control API and /metrics would be open; set token: env('CRMSYNC_TOKEN')`,
    });
  }

  if (problems.length > 0) throw configError(source, problems);
  const store = { ...base.store, path: resolve(options.cwd, base.store.path) };
  return { ...base, store, connections, flows, secrets: resolved.secrets, source };
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The entries of a plain object, or none for anything else (the schema reports the wrong type). */
function entriesOf(value: unknown): [string, unknown][] {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.entries(value) : [];
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(root)' : path.map(String).join('.');
}

function configError(source: string, problems: readonly Problem[]): ConfigError {
  const lines = problems.map((problem) => `  - ${problem.path}: ${problem.message}`).join('\n');
  return new ConfigError(
    `Invalid configuration (${source}), ${problems.length} problem(s):\n${lines}`,
    problems,
  );
}

/** The folder relative paths of a config are resolved against: its file's folder, else the working folder. */
export function configFolder(config: Pick<Config, 'source'>): string {
  return existsSync(config.source) ? dirname(config.source) : process.cwd();
}
