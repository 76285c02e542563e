/**
 * A parser and evaluator for the archive `$filter` language (reference §4): `column op value` terms joined by
 * `and`, with the documented operators eq, ne, lt, le, gt, ge, begins, contains, afterTime, beforeTime, set
 * (and their word aliases), plus `startswith(col,'x')`, `endswith(...)` and `substringof('x',col)`. String
 * literals are single-quoted with `''` as the escape. String comparisons ignore case, as SQL Server's default
 * collation does [INFERRED]. Anything else is a 400 whose message names the problem.
 */
import { badRequest } from './errors.ts';

/** The type of an archive column, deciding how values compare. */
export type ColumnType = 'int' | 'decimal' | 'string' | 'datetime' | 'bool';

/** A row value: numbers, strings, ISO datetimes (without offset, UTC), booleans or null. */
export type CellValue = number | string | boolean | null;

/** A parsed filter: a predicate over a row reader. */
export type RowPredicate = (read: (column: string) => CellValue) => boolean;

type Token =
  | { kind: 'word'; text: string }
  | { kind: 'string'; text: string }
  | { kind: 'number'; value: number }
  | { kind: 'punct'; text: '(' | ')' | ',' };

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < input.length) {
    const char = input.charAt(index);
    if (/\s/.test(char)) {
      index++;
    } else if (char === "'") {
      let text = '';
      index++;
      for (;;) {
        if (index >= input.length) throw badRequest(`$filter: unterminated string literal in "${input}".`);
        const next = input.charAt(index);
        if (next === "'") {
          if (input.charAt(index + 1) === "'") {
            text += "'";
            index += 2;
            continue;
          }
          index++;
          break;
        }
        text += next;
        index++;
      }
      tokens.push({ kind: 'string', text });
    } else if (char === '(' || char === ')' || char === ',') {
      tokens.push({ kind: 'punct', text: char });
      index++;
    } else {
      const match = /^[^\s(),']+/.exec(input.slice(index));
      const text = match?.[0] ?? char;
      index += text.length;
      if (/^-?\d+(\.\d+)?$/.test(text)) tokens.push({ kind: 'number', value: Number(text) });
      else tokens.push({ kind: 'word', text });
    }
  }
  return tokens;
}

/** Binary operators by lower-case name, with the documented word aliases. */
const BINARY: Readonly<Record<string, string>> = {
  eq: 'eq',
  equals: 'eq',
  is: 'eq',
  ne: 'ne',
  unequals: 'ne',
  isnot: 'ne',
  lt: 'lt',
  less: 'lt',
  le: 'le',
  gt: 'gt',
  greater: 'gt',
  ge: 'ge',
  begins: 'begins',
  notbegins: 'notbegins',
  contains: 'contains',
  notcontains: 'notcontains',
  aftertime: 'gt',
  after: 'gt',
  beforetime: 'lt',
  before: 'lt',
};

const FUNCTIONS = ['startswith', 'endswith', 'substringof'];

type Literal = number | string | null;

/** Resolves a column name to its canonical name and type, or undefined when unknown. */
export type ColumnResolver = (name: string) => { name: string; type: ColumnType } | undefined;

function isEmpty(value: CellValue): boolean {
  return value === null || value === '' || value === 0 || value === false;
}

function compare(type: ColumnType, cell: CellValue, literal: Literal): number {
  if (type === 'datetime') {
    const left = typeof cell === 'string' ? Date.parse(`${cell}Z`) : Number.NaN;
    const right =
      typeof literal === 'string'
        ? Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(literal) ? literal : `${literal}Z`)
        : Number.NaN;
    if (Number.isNaN(right)) throw badRequest(`$filter: "${String(literal)}" is not a date/time.`);
    return Number.isNaN(left) ? -1 : left - right;
  }
  if (type === 'int' || type === 'decimal' || type === 'bool') {
    const left = typeof cell === 'boolean' ? Number(cell) : Number(cell ?? 0);
    const right =
      typeof literal === 'string' && /^(true|false)$/i.test(literal)
        ? Number(literal.toLowerCase() === 'true')
        : Number(literal);
    if (Number.isNaN(right)) throw badRequest(`$filter: "${String(literal)}" is not a number.`);
    return left - right;
  }
  return String(cell ?? '').localeCompare(String(literal ?? ''), 'en', { sensitivity: 'accent' });
}

function stringTest(op: string, cell: CellValue, literal: Literal): boolean {
  const haystack = String(cell ?? '').toLowerCase();
  const needle = String(literal ?? '').toLowerCase();
  if (op === 'begins') return haystack.startsWith(needle);
  if (op === 'notbegins') return !haystack.startsWith(needle);
  if (op === 'contains') return haystack.includes(needle);
  if (op === 'notcontains') return !haystack.includes(needle);
  return haystack.endsWith(needle);
}

/** Parses `$filter` into a predicate. `resolve` maps column names (case-insensitive) to their types. */
export function parseFilter(input: string, resolve: ColumnResolver): RowPredicate {
  const tokens = tokenize(input);
  let position = 0;
  const peek = () => tokens[position];
  const next = () => {
    const token = tokens[position++];
    if (token === undefined) throw badRequest(`$filter: unexpected end of "${input}".`);
    return token;
  };
  const column = (token: Token) => {
    if (token.kind !== 'word') throw badRequest(`$filter: expected a column name in "${input}".`);
    const resolved = resolve(token.text);
    if (resolved === undefined) throw badRequest(`$filter: unknown column "${token.text}".`);
    return resolved;
  };
  const literal = (): Literal => {
    const token = next();
    if (token.kind === 'string') return token.text;
    if (token.kind === 'number') return token.value;
    if (token.kind === 'word' && token.text.toLowerCase() === 'null') return null;
    if (token.kind === 'word' && /^(true|false)$/i.test(token.text)) return token.text.toLowerCase();
    throw badRequest(`$filter: expected a value (a number or a 'quoted string') in "${input}".`);
  };
  const expect = (text: string) => {
    const token = next();
    if (token.kind !== 'punct' || token.text !== text)
      throw badRequest(`$filter: expected "${text}" in "${input}".`);
  };

  const parseFunction = (name: string): RowPredicate => {
    expect('(');
    let target;
    let value: Literal;
    if (name === 'substringof') {
      value = literal();
      expect(',');
      target = column(next());
    } else {
      target = column(next());
      expect(',');
      value = literal();
    }
    expect(')');
    const op = name === 'startswith' ? 'begins' : name === 'substringof' ? 'contains' : 'ends';
    return (read) => stringTest(op, read(target.name), value);
  };

  const parseTerm = (): RowPredicate => {
    const first = next();
    if (first.kind === 'punct' && first.text === '(') {
      const inner = parseAnd();
      expect(')');
      return inner;
    }
    if (first.kind === 'word' && FUNCTIONS.includes(first.text.toLowerCase()) && peek()?.kind === 'punct')
      return parseFunction(first.text.toLowerCase());
    const target = column(first);
    const opToken = next();
    if (opToken.kind !== 'word') throw badRequest(`$filter: expected an operator after "${target.name}".`);
    const opName = opToken.text.toLowerCase();
    if (opName === 'set') return (read) => !isEmpty(read(target.name));
    const op = BINARY[opName];
    if (op === undefined)
      throw badRequest(
        `$filter: unknown operator "${opToken.text}"; supported: ${[...Object.keys(BINARY), 'set'].join(', ')}, startswith(), endswith(), substringof().`,
      );
    const value = literal();
    if (value === null) {
      // Null comparisons are not documented [UNCONFIRMED]; here null matches "no value" (null, '', 0).
      if (op === 'eq') return (read) => isEmpty(read(target.name));
      if (op === 'ne') return (read) => !isEmpty(read(target.name));
      throw badRequest(`$filter: null can only be compared with eq or ne.`);
    }
    if (['begins', 'notbegins', 'contains', 'notcontains'].includes(op))
      return (read) => stringTest(op, read(target.name), value);
    return (read) => {
      const difference = compare(target.type, read(target.name), value);
      if (op === 'eq') return difference === 0;
      if (op === 'ne') return difference !== 0;
      if (op === 'lt') return difference < 0;
      if (op === 'le') return difference <= 0;
      if (op === 'gt') return difference > 0;
      return difference >= 0;
    };
  };

  const parseAnd = (): RowPredicate => {
    const terms = [parseTerm()];
    for (;;) {
      const token = peek();
      if (token?.kind === 'word' && token.text.toLowerCase() === 'and') {
        position++;
        terms.push(parseTerm());
      } else if (token?.kind === 'word' && token.text.toLowerCase() === 'or') {
        throw badRequest('$filter: "or" is not supported by the archive; combine terms with "and".');
      } else {
        return (read) => terms.every((term) => term(read));
      }
    }
  };

  const predicate = parseAnd();
  if (position < tokens.length)
    throw badRequest(`$filter: unexpected text after a complete term in "${input}".`);
  return predicate;
}
