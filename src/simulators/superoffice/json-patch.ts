/**
 * PATCH bodies as the WebAPI takes them (reference §3.2): an RFC 6902 operation array (ops add, replace,
 * remove, test; no move/copy) or an RFC 7396 merge object. Paths are case-insensitive and the leading slash
 * is optional. Both are applied to the entity's rendered JSON document, which the caller then parses back
 * like a PUT body.
 */
import { SimHttpError, badRequest } from './errors.ts';

type Json = unknown;
type JsonObject = Record<string, Json>;

function isObject(value: Json): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The existing key of `object` matching `name` case-insensitively, or `name` itself. */
function matchKey(object: JsonObject, name: string): string {
  const lower = name.toLowerCase();
  return Object.keys(object).find((key) => key.toLowerCase() === lower) ?? name;
}

function parsePath(path: unknown): string[] {
  if (typeof path !== 'string') throw badRequest('JSON patch: every operation needs a string "path".');
  const trimmed = path.startsWith('/') ? path.slice(1) : path;
  if (trimmed === '') throw badRequest('JSON patch: the whole-document path "" is not supported.');
  return trimmed.split('/').map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** Walks to the parent of the last segment; returns it with the final key. */
function resolveParent(document: JsonObject, segments: string[], path: string): [Json, string] {
  let current: Json = document;
  for (const segment of segments.slice(0, -1)) {
    if (isObject(current)) current = current[matchKey(current, segment)];
    else if (Array.isArray(current)) current = current[Number(segment)];
    else current = undefined;
    if (current === undefined || current === null)
      throw badRequest(`JSON patch: path "${path}" does not exist in the entity.`);
  }
  return [current, segments.at(-1) ?? ''];
}

function readAt(parent: Json, key: string): Json {
  if (isObject(parent)) return parent[matchKey(parent, key)];
  if (Array.isArray(parent)) return parent[Number(key)];
  return undefined;
}

function deepEqual(a: Json, b: Json): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function applyOperation(document: JsonObject, operation: Json): void {
  if (!isObject(operation)) throw badRequest('JSON patch: every element must be an operation object.');
  const op = typeof operation.op === 'string' ? operation.op.toLowerCase() : '';
  const path = String(operation.path);
  const [parent, key] = resolveParent(document, parsePath(operation.path), path);
  switch (op) {
    case 'add':
    case 'replace':
      if (!('value' in operation)) throw badRequest(`JSON patch: "${op}" at "${path}" needs a "value".`);
      if (isObject(parent)) parent[matchKey(parent, key)] = operation.value;
      else if (Array.isArray(parent)) {
        if (key === '-') parent.push(operation.value);
        else if (op === 'add') parent.splice(Number(key), 0, operation.value);
        else parent[Number(key)] = operation.value;
      } else throw badRequest(`JSON patch: cannot ${op} at "${path}".`);
      return;
    case 'remove':
      if (isObject(parent)) delete parent[matchKey(parent, key)];
      else if (Array.isArray(parent)) parent.splice(Number(key), 1);
      return;
    case 'test':
      if (!deepEqual(readAt(parent, key), operation.value))
        throw new SimHttpError(409, 'Conflict', `JSON patch: test at "${path}" failed; the value differs.`);
      return;
    default:
      throw badRequest(
        `JSON patch: operation "${op}" is not supported; use add, replace, remove or test (no move/copy).`,
      );
  }
}

/** Applies an RFC 6902 operation array to `document` (mutates it). A failed `test` is a 409. */
export function applyJsonPatch(document: JsonObject, operations: Json): void {
  if (!Array.isArray(operations))
    throw badRequest('application/json-patch+json: the body must be an array of operations.');
  for (const operation of operations) applyOperation(document, operation);
}

/** Applies an RFC 7396 merge patch to `document` (mutates it): null removes, objects merge, others replace. */
export function applyMergePatch(document: JsonObject, patch: Json): void {
  if (!isObject(patch)) throw badRequest('application/merge-patch+json: the body must be a JSON object.');
  for (const [name, value] of Object.entries(patch)) {
    const key = matchKey(document, name);
    const existing = document[key];
    if (value === null) delete document[key];
    else if (isObject(value) && isObject(existing)) applyMergePatch(existing, value);
    else document[key] = value;
  }
}
