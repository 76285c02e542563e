/**
 * List filters: the bracket encoding reproduces the reference's examples (PHP http_build_query), the
 * searchParams JSON keeps types and puts select in an array, and values the bracket form cannot carry are
 * refused instead of silently dropped.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CrmsyncError } from '../../../src/core/errors.ts';
import { Where, listQuery, searchParamsObject } from '../../../src/connectors/espocrm/where.ts';

/** The query string with brackets unescaped, for comparison with the reference's examples. */
function decoded(query: URLSearchParams): string {
  return decodeURIComponent(query.toString());
}

describe('espocrm where: query-string (bracket) encoding', () => {
  it('writes the reference examples', () => {
    assert.equal(
      decoded(listQuery({ where: [Where.equals('status', 'New')] }, 'query')),
      'where[0][type]=equals&where[0][attribute]=status&where[0][value]=New',
    );
    assert.equal(
      decoded(listQuery({ where: [Where.in('status', ['New', 'Assigned'])] }, 'query')),
      'where[0][type]=in&where[0][attribute]=status&where[0][value][0]=New&where[0][value][1]=Assigned',
    );
    assert.equal(
      decoded(
        listQuery(
          { where: [Where.or(Where.equals('status', 'New'), Where.isNull('assignedUserId'))] },
          'query',
        ),
      ),
      'where[0][type]=or&where[0][value][0][type]=equals&where[0][value][0][attribute]=status&' +
        'where[0][value][0][value]=New&where[0][value][1][type]=isNull&where[0][value][1][attribute]=assignedUserId',
    );
  });

  it('writes select comma-separated, order, paging, booleans as 1/0, and several items with sequential keys', () => {
    const query = listQuery(
      {
        where: [
          Where.equals('isActive', true),
          Where.between('createdAt', '2026-01-01 00:00:00', '2026-02-01 00:00:00'),
        ],
        select: ['id', 'name', 'modifiedAt'],
        orderBy: 'modifiedAt',
        order: 'asc',
        maxSize: 200,
        offset: 400,
      },
      'query',
    );
    assert.equal(query.get('select'), 'id,name,modifiedAt');
    assert.equal(query.get('orderBy'), 'modifiedAt');
    assert.equal(query.get('order'), 'asc');
    assert.equal(query.get('maxSize'), '200');
    assert.equal(query.get('offset'), '400');
    assert.equal(query.get('where[0][value]'), '1');
    assert.equal(query.get('where[1][value][0]'), '2026-01-01 00:00:00');
    assert.equal(query.get('where[1][value][1]'), '2026-02-01 00:00:00');
    assert.equal(query.has('searchParams'), false);
  });

  it('refuses null and empty lists, which the bracket form cannot carry', () => {
    assert.throws(
      () => listQuery({ where: [Where.equals('advowareId', null)] }, 'query'),
      (error: unknown) => error instanceof CrmsyncError && error.code === 'ESPOCRM_WHERE_UNENCODABLE',
    );
    assert.throws(
      () => listQuery({ where: [Where.in('id', [])] }, 'query'),
      (error: unknown) =>
        error instanceof CrmsyncError && /where\[0\]\[value\]: an empty list/.test(error.message),
    );
  });
});

describe('espocrm where: searchParams JSON', () => {
  it('puts every parameter into one JSON value, types kept, select as an array', () => {
    const params = {
      where: [Where.and(Where.greaterThan('syncRetryCount', 2), Where.equals('advowareId', null))],
      select: ['id', 'name'],
      orderBy: 'name',
      order: 'desc' as const,
      maxSize: 50,
      offset: 0,
    };
    const query = listQuery(params, 'searchParams');
    assert.deepEqual([...query.keys()], ['searchParams']);
    assert.deepEqual(JSON.parse(query.get('searchParams')!), {
      where: [
        {
          type: 'and',
          value: [
            { type: 'greaterThan', attribute: 'syncRetryCount', value: 2 },
            { type: 'equals', attribute: 'advowareId', value: null },
          ],
        },
      ],
      select: ['id', 'name'],
      orderBy: 'name',
      order: 'desc',
      maxSize: 50,
      offset: 0,
    });
    assert.deepEqual(searchParamsObject({}), {});
  });

  it('carries dateTime and timeZone of date-time comparisons', () => {
    assert.deepEqual(Where.after('modifiedAt', '2026-03-02 08:00:00', { dateTime: true, timeZone: 'UTC' }), {
      type: 'after',
      attribute: 'modifiedAt',
      value: '2026-03-02 08:00:00',
      dateTime: true,
      timeZone: 'UTC',
    });
    assert.deepEqual(Where.lastXDays('createdAt', 7), {
      type: 'lastXDays',
      attribute: 'createdAt',
      value: 7,
    });
    assert.deepEqual(Where.dateRange('today', 'createdAt'), { type: 'today', attribute: 'createdAt' });
  });
});
