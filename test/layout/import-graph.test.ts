// The module graph of src/: no import cycles, and the product never imports the vendor simulators (only the
// sandbox, which runs them, may). The lint rule says the second too; this test also covers type imports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const src = join(root, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const importPattern = /^\s*(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'/gm;

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(importPattern)].map((match) => resolve(dirname(file), match[1] ?? ''));
}

const graph = new Map(sourceFiles(src).map((file) => [file, importsOf(file)]));

function findCycle(): string[] | null {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): string[] | null => {
    if (state.get(file) === 'done') return null;
    if (state.get(file) === 'visiting') return [...stack.slice(stack.indexOf(file)), file];
    state.set(file, 'visiting');
    stack.push(file);
    for (const target of graph.get(file) ?? []) {
      const cycle = visit(target);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(file, 'done');
    return null;
  };
  for (const file of graph.keys()) {
    const cycle = visit(file);
    if (cycle) return cycle;
  }
  return null;
}

test('src/ has no import cycles', () => {
  const cycle = findCycle();
  assert.equal(cycle?.map((file) => relative(root, file)).join(' -> ') ?? null, null);
});

test('only the sandbox, the CLI and the simulators themselves import src/simulators', () => {
  const allowed = ['sandbox', 'simulators', 'cli'].map((folder) => join(src, folder) + '/');
  const offenders = [...graph].flatMap(([file, targets]) =>
    allowed.some((folder) => file.startsWith(folder))
      ? []
      : targets
          .filter((target) => target.startsWith(join(src, 'simulators') + '/'))
          .map((target) => `${relative(root, file)} imports ${relative(root, target)}`),
  );
  assert.deepEqual(offenders, []);
});
