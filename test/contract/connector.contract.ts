/**
 * The connector contract: what every connector with a records API promises through the `Connector` port,
 * and that each declared capability is true of its vendor (run against the vendor's simulator by one test
 * file per vendor, `connector-<vendor>.test.ts`). Flows rely on these flags instead of guessing per vendor:
 * `modifiedSince` boundaries (same-second writes), list order, paging while records change, read-after-write
 * versions, not-found, conditional writes, and abort signals.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { StaleWriteError } from '../../src/core/errors.ts';
import type { JsonObject } from '../../src/core/types.ts';
import { currentCallSignal } from '../../src/connectors/shared/call-signal.ts';
import { openSqliteBackend } from '../../src/adapters/sqlite/index.ts';
import type {
  ApiCallRecorder,
  Connector,
  ConnectorFactory,
  ListQuery,
  VendorRecord,
} from '../../src/ports/connector.ts';
import type { ManualClock } from '../support/manual-clock.ts';
import { silentLogger } from '../engine/support.ts';

/** A connector against a fresh, empty simulator. */
export interface ConnectorSubject {
  readonly connector: Connector;
  /** The clock of the simulator and the connector: the suite sets it for same-second writes. */
  readonly clock: ManualClock;
  /** An entity type the connector reads, writes and lists. */
  readonly entityType: string;
  /** An id no record has. */
  readonly missingId: string;
  /** Fields of a record named `label` (for creates, and for updates that rename). */
  fields(label: string): JsonObject;
  /** The name of a record as read back. */
  nameOf(record: VendorRecord): unknown;
  /** The call signal in scope ({@link currentCallSignal}) at each vendor call the connector reported. */
  readonly callSignals: readonly (AbortSignal | undefined)[];
  /** The method of each vendor call the connector reported, in order. */
  readonly callMethods: readonly string[];
  /** Closes the connector and the simulator. */
  close(): Promise<void>;
}

/** An API call recorder for a subject's connector that notes the call signal in scope at every call. */
export function signalRecorder(): ApiCallRecorder & {
  readonly signals: (AbortSignal | undefined)[];
  readonly methods: string[];
} {
  const signals: (AbortSignal | undefined)[] = [];
  const methods: string[] = [];
  return {
    signals,
    methods,
    record: (call) => {
      signals.push(currentCallSignal());
      methods.push(call.method);
    },
  };
}

/** Makes a subject; the clock starts on a whole second. */
export type ConnectorSubjectFactory = () => Promise<ConnectorSubject>;

/** What differs per vendor when a subject is built by {@link simulatorSubject}. */
export interface SimulatorSubjectOptions<Options> extends Pick<
  ConnectorSubject,
  'entityType' | 'missingId' | 'fields' | 'nameOf'
> {
  readonly factory: ConnectorFactory<Options>;
  readonly connection: string;
  /** The connection's options as a config would give them (parsed by the factory's schema). */
  readonly options: unknown;
  readonly clock: ManualClock;
  /** The simulator the options point at; closed with the subject. */
  readonly simulator: { close(): Promise<void> };
}

/** A subject whose connector talks to a simulator and keeps its state in a fresh in-memory store. */
export function simulatorSubject<Options>(options: SimulatorSubjectOptions<Options>): ConnectorSubject {
  const { factory, clock, simulator } = options;
  const backend = openSqliteBackend({ path: ':memory:', durability: 'process', clock });
  const apiCalls = signalRecorder();
  const connector = factory.create({
    connection: options.connection,
    options: factory.optionsSchema.parse(options.options),
    clock,
    logger: silentLogger,
    apiCalls,
    state: backend.store.connectorState,
  });
  return {
    connector,
    clock,
    entityType: options.entityType,
    missingId: options.missingId,
    fields: options.fields,
    nameOf: options.nameOf,
    callSignals: apiCalls.signals,
    callMethods: apiCalls.methods,
    close: async () => {
      await connector.close();
      await simulator.close();
      await backend.close();
    },
  };
}

const CONDITIONAL_WRITES = ['atomic', 'pre-check', 'none'];
const MODIFIED_SINCE = ['inclusive', 'exclusive', 'unsupported'];

/** Every page of a list, with `between` called after each page but the last. */
async function listAll(
  connector: Connector,
  query: ListQuery,
  between: (page: number, soFar: readonly VendorRecord[]) => Promise<void> = () => Promise.resolve(),
): Promise<VendorRecord[]> {
  const records: VendorRecord[] = [];
  let cursor: string | undefined;
  for (let page = 0; ; page++) {
    const answer = await connector.list({ ...query, ...(cursor !== undefined && { cursor }) });
    records.push(...answer.records);
    if (answer.nextCursor === null) return records;
    cursor = answer.nextCursor;
    await between(page, records);
  }
}

/** Defines the contract suite for one vendor. */
export function defineConnectorContract(vendor: string, factory: ConnectorSubjectFactory): void {
  describe(`connector contract: ${vendor}`, () => {
    let subject: ConnectorSubject;
    beforeEach(async () => {
      subject = await factory();
    });
    // Not t.skip() for a capability a connector does not declare: afterEach hooks do not run after it.
    afterEach(() => subject.close());

    const create = async (label: string) => {
      const written = await subject.connector.write({
        entityType: subject.entityType,
        fields: subject.fields(label),
      });
      return { ...written, label };
    };
    const rename = (id: string, label: string, expectedVersion?: string | null) =>
      subject.connector.write({
        entityType: subject.entityType,
        id,
        fields: subject.fields(label),
        ...(expectedVersion !== undefined && { expectedVersion }),
      });
    const read = (id: string) => subject.connector.read(subject.entityType, id);
    /** Moves the clock to the next unit of the vendor's modification times, so that a write gets a new one. */
    const nextUnit = () => subject.clock.advance(Math.max(1_000, granularity()));
    const granularity = () => subject.connector.capabilities.list.modifiedGranularityMs;

    it('declares its capabilities as plain data with known values', () => {
      const { capabilities } = subject.connector;
      assert.deepEqual(JSON.parse(JSON.stringify(capabilities)), capabilities, 'plain data, no functions');
      assert.equal(capabilities.records, true);
      assert.ok(CONDITIONAL_WRITES.includes(capabilities.conditionalWrite));
      assert.ok(MODIFIED_SINCE.includes(capabilities.list.modifiedSince));
      assert.ok(['modified', 'none'].includes(capabilities.list.order));
      assert.ok(['keyset', 'offset'].includes(capabilities.list.paging));
      assert.equal(typeof capabilities.deletes, 'boolean');
      assert.equal(typeof capabilities.versionPerWrite, 'boolean');
      assert.equal(typeof capabilities.comparesOverwrittenValues, 'boolean');
      if (capabilities.list.modifiedSince !== 'unsupported')
        assert.ok(capabilities.list.modifiedGranularityMs > 0);
    });

    it('finds a record by its field values, and nothing for values no record has', async () => {
      const first = await create('Findling');
      await create('Other');
      const found = await subject.connector.find(subject.entityType, subject.fields('Findling'));
      assert.deepEqual(
        found.map((record) => record.id),
        [first.id],
      );
      assert.deepEqual(await subject.connector.find(subject.entityType, subject.fields('Nobody')), []);
    });

    it('with versionPerWrite, two writes in the same instant still give two versions', async (t) => {
      if (!subject.connector.capabilities.versionPerWrite) return t.diagnostic('versionPerWrite is false');
      const { id, version } = await create('Erst');
      const second = await rename(id, 'Zweit');
      const third = await rename(id, 'Dritt');
      assert.equal(new Set([version, second.version, third.version]).size, 3);
    });

    it('reads a record that does not exist as null', async () => {
      assert.equal(await read(subject.missingId), null);
    });

    it('read after write: the version write() returns is the version read() returns', async () => {
      const created = await create('Readback Created');
      assert.notEqual(created.version, null);
      const afterCreate = await read(created.id);
      assert.equal(afterCreate?.version, created.version);
      assert.equal(subject.nameOf(afterCreate), 'Readback Created');

      nextUnit();
      const updated = await rename(created.id, 'Readback Updated');
      assert.equal(updated.id, created.id);
      assert.notEqual(updated.version, created.version, 'every write makes a new version');
      const afterUpdate = await read(created.id);
      assert.equal(afterUpdate?.version, updated.version);
      assert.equal(subject.nameOf(afterUpdate), 'Readback Updated');
    });

    it('refuses a write on a stale expected version unless conditionalWrite is none', async (t) => {
      if (subject.connector.capabilities.conditionalWrite === 'none') {
        t.diagnostic('declares no conditional writes');
        return;
      }
      const created = await create('Stale Base');
      nextUnit();
      const current = await rename(created.id, 'Stale Current');
      const start = subject.callMethods.length;
      await assert.rejects(rename(created.id, 'Stale Lost', created.version), StaleWriteError);
      if (subject.connector.capabilities.conditionalWrite === 'atomic') {
        assert.deepEqual(
          subject.callMethods.slice(start).filter((method) => method === 'GET'),
          [],
          'atomic: the vendor refused the write itself, no read before it',
        );
      }
      const after = await read(created.id);
      assert.equal(subject.nameOf(after!), 'Stale Current', 'the refused write changed nothing');
      assert.equal(after?.version, current.version);
      const fresh = await rename(created.id, 'Stale Fresh', current.version);
      assert.equal((await read(created.id))?.version, fresh.version, 'the current version is accepted');
    });

    it('filters modifiedSince at its boundary as declared, for writes within one unit of time', async () => {
      const { modifiedSince, modifiedGranularityMs } = subject.connector.capabilities.list;
      const before = await create('Boundary Before');
      nextUnit();
      const unit = subject.clock.now();
      subject.clock.advance(Math.floor(modifiedGranularityMs / 3));
      const first = await create('Boundary First');
      subject.clock.advance(Math.floor(modifiedGranularityMs / 3));
      const second = await create('Boundary Second');
      const ids = async (since: string) =>
        (await listAll(subject.connector, { entityType: subject.entityType, modifiedSince: since }))
          .map((record) => record.id)
          .sort();
      const sameUnit = [first.id, second.id].sort();
      const all = [before.id, first.id, second.id].sort();
      const atUnit = new Date(unit + Math.floor(modifiedGranularityMs / 2)).toISOString();
      if (modifiedSince === 'unsupported') {
        assert.deepEqual(await ids(new Date(unit + 86_400_000).toISOString()), all, 'the filter is ignored');
        return;
      }
      const listed = await listAll(subject.connector, { entityType: subject.entityType });
      for (const record of listed) {
        assert.ok(record.modifiedAt !== undefined, 'records carry their modification time');
        assert.equal(Date.parse(record.modifiedAt) % modifiedGranularityMs, 0, 'at the declared granularity');
      }
      if (modifiedSince === 'inclusive') {
        assert.deepEqual(await ids(atUnit), sameUnit, 'at or after, within the same unit of time');
      } else {
        assert.deepEqual(await ids(atUnit), [], 'exclusive: nothing of the same unit of time');
        assert.deepEqual(await ids(new Date(unit - modifiedGranularityMs).toISOString()), sameUnit);
      }
    });

    it('lists oldest modification first where it declares so', async (t) => {
      if (subject.connector.capabilities.list.order !== 'modified') {
        t.diagnostic('declares no order');
        return;
      }
      const records: { id: string; label: string }[] = [];
      for (const label of ['Order A', 'Order B', 'Order C']) {
        records.push(await create(label));
        nextUnit();
      }
      await rename(records[0]!.id, 'Order A changed');
      const listed = await listAll(subject.connector, { entityType: subject.entityType, limit: 2 });
      assert.deepEqual(
        listed.map((record) => record.id),
        [records[1]!.id, records[2]!.id, records[0]!.id],
      );
      const times = listed.map((record) => Date.parse(record.modifiedAt!));
      assert.deepEqual(
        times,
        times.toSorted((a, b) => a - b),
      );
    });

    it('loses no record while records change during a paged scan', async () => {
      const records: { id: string; label: string }[] = [];
      for (let index = 0; index < 7; index++) {
        records.push(await create(`Paging ${index}`));
        nextUnit();
      }
      const listed = await listAll(
        subject.connector,
        { entityType: subject.entityType, limit: 2 },
        async (page) => {
          if (page !== 0) return;
          // One record already listed and one not listed yet change: both move to the end of a modified order.
          await rename(records[0]!.id, 'Paging 0 changed');
          await rename(records[3]!.id, 'Paging 3 changed');
          nextUnit();
        },
      );
      const ids = new Set(listed.map((record) => record.id));
      for (const record of records) assert.ok(ids.has(record.id), `record ${record.label} was listed`);
      if (subject.connector.capabilities.list.paging === 'keyset') {
        const pairs = listed.map((record) => `${record.id}@${record.version}`);
        assert.equal(new Set(pairs).size, pairs.length, 'keyset: no (record, version) is listed twice');
      }
    });

    it('keyset: records changed during a scan are listed again at their new version', async (t) => {
      if (subject.connector.capabilities.list.paging !== 'keyset') {
        t.diagnostic('declares offset paging');
        return;
      }
      // Three records of one second: after the first page the cursor stands inside that second.
      const records = [await create('Moving 0'), await create('Moving 1'), await create('Moving 2')];
      const changed: string[] = [];
      const query = { entityType: subject.entityType, limit: 2 };
      const listed = await listAll(subject.connector, query, async (page, soFar) => {
        if (page !== 0) return;
        nextUnit();
        for (const record of soFar) {
          const moved = await rename(record.id, `${String(subject.nameOf(record))} moved`);
          changed.push(`${record.id}@${moved.version}`);
        }
      });
      const pairs = new Set(listed.map((record) => `${record.id}@${record.version}`));
      for (const pair of changed) assert.ok(pairs.has(pair), `${pair} is listed again`);
      for (const record of records)
        assert.ok(
          listed.some((each) => each.id === record.id),
          record.label,
        );
    });

    it('runs read, write and list inside the signal of the call', async () => {
      const { signal } = new AbortController();
      const start = subject.callSignals.length;
      const created = await subject.connector.write(
        { entityType: subject.entityType, fields: subject.fields('Signal') },
        { signal },
      );
      await subject.connector.read(subject.entityType, created.id, { signal });
      await subject.connector.list({ entityType: subject.entityType }, { signal });
      const seen = subject.callSignals.slice(start);
      assert.ok(seen.length >= 3, 'a vendor call per port call at least');
      assert.ok(
        seen.every((each) => each === signal),
        'every vendor call of those port calls sees their signal',
      );
    });

    it('rejects a call whose signal is already aborted, with its reason', async () => {
      const reason = new Error('run aborted');
      await assert.rejects(
        subject.connector.read(subject.entityType, subject.missingId, {
          signal: AbortSignal.abort(reason),
        }),
        (error: unknown) => error === reason,
      );
    });
  });
}
