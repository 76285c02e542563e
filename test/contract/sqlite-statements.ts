/**
 * Watches the statements the SQLite adapter executes, at the driver (node:sqlite's StatementSync), so that
 * tests can check what the real adapter does (its query plans, its batches) without a hook in the product.
 */
import { DatabaseSync, StatementSync } from 'node:sqlite';
import type { SQLInputValue } from 'node:sqlite';
import type { TestContext } from 'node:test';

/** One executed statement: its SQL, parameters and, for writes, the rows it changed. */
export interface ExecutedStatement {
  readonly sql: string;
  readonly params: readonly SQLInputValue[];
  readonly changes: number | null;
}

/** Records every statement executed until the test ends. */
export function recordStatements(t: TestContext): ExecutedStatement[] {
  const executed: ExecutedStatement[] = [];
  const prototype = StatementSync.prototype;
  for (const method of ['all', 'get', 'run'] as const) {
    const original = Object.getOwnPropertyDescriptor(prototype, method)!;
    const call = original.value as (...params: SQLInputValue[]) => unknown;
    Object.defineProperty(prototype, method, {
      ...original,
      value: function (this: StatementSync, ...params: SQLInputValue[]): unknown {
        const result = call.apply(this, params);
        const changes = method === 'run' ? Number((result as { changes: number | bigint }).changes) : null;
        executed.push({ sql: this.sourceSQL, params, changes });
        return result;
      },
    });
    t.after(() => Object.defineProperty(prototype, method, original));
  }
  return executed;
}

/** The statements `work` executed. */
export async function statementsOf(
  executed: ExecutedStatement[],
  work: () => Promise<unknown>,
): Promise<ExecutedStatement[]> {
  const from = executed.length;
  await work();
  return executed.slice(from);
}

/** The lines of EXPLAIN QUERY PLAN for `statement`, on a separate read-only connection to `path`. */
export function queryPlan(path: string, statement: ExecutedStatement): string[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db
      .prepare(`EXPLAIN QUERY PLAN ${statement.sql}`)
      .all(...statement.params)
      .map((row) => String(row.detail));
  } finally {
    db.close();
  }
}
