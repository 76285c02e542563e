/**
 * Secrets come from the environment, never from the config file itself. A config writes `env('NAME')`
 * where a secret belongs; loading replaces it with the variable's value, or reports the missing variable
 * with the path where it was asked for.
 */

const SECRET_REF = Symbol.for('crmsync.envRef');

/** A reference to an environment variable, resolved when the config is loaded. */
export interface EnvRef {
  readonly [SECRET_REF]: true;
  /** Variable name. */
  readonly name: string;
  /** Value used when the variable is unset (for non-secret settings and demos only). */
  readonly fallback: string | undefined;
}

/** Refers to the environment variable `name` (optionally with a fallback for non-production values). */
export function env(name: string, fallback?: string): EnvRef {
  return { [SECRET_REF]: true, name, fallback };
}

function isEnvRef(value: unknown): value is EnvRef {
  return typeof value === 'object' && value !== null && SECRET_REF in value;
}

/** A problem found while resolving: where, and what. */
export interface ResolveProblem {
  readonly path: string;
  readonly message: string;
}

/**
 * Replaces every {@link EnvRef} in `value` by the variable's value from `environment`. Returns the resolved
 * copy, the problems (unset variables, with their config path), and the values that are secrets (so that
 * output can redact them).
 */
export function resolveEnvRefs(
  value: unknown,
  environment: NodeJS.ProcessEnv,
  path: string[] = [],
): { value: unknown; problems: ResolveProblem[]; secrets: string[] } {
  const problems: ResolveProblem[] = [];
  const secrets: string[] = [];
  const walk = (node: unknown, at: string[]): unknown => {
    if (isEnvRef(node)) {
      const found = environment[node.name];
      if (found !== undefined && found !== '') {
        secrets.push(found);
        return found;
      }
      if (node.fallback !== undefined) return node.fallback;
      problems.push({
        path: at.join('.'),
        message: `environment variable ${node.name} is not set; set it in the environment or in .env`,
      });
      return undefined;
    }
    if (Array.isArray(node)) return node.map((item, index) => walk(item, [...at, String(index)]));
    if (typeof node === 'object' && node !== null && Object.getPrototypeOf(node) === Object.prototype) {
      return Object.fromEntries(Object.entries(node).map(([key, item]) => [key, walk(item, [...at, key])]));
    }
    return node;
  };
  return { value: walk(value, path), problems, secrets };
}
