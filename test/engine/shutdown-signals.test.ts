import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { test } from 'node:test';
import { installShutdownHandlers } from '../../src/engine/worker-pool.ts';
import { eventually } from '../support/eventually.ts';
import { gate } from './support.ts';

// SIGHUP stands in for SIGTERM/SIGINT: process.emit only calls the listeners, and no other listener here
// (such as the test runner's) reacts to it. Not SIGUSR2: Node writes a diagnostic report file on it.
const SIGNAL = 'SIGHUP';

test('the first signal shuts down once; a second one forces exit', async () => {
  const exits: number[] = [];
  const shutdownMayEnd = gate();
  let shutdowns = 0;
  const othersListening = process.listenerCount(SIGNAL);
  const uninstall = installShutdownHandlers(
    async () => {
      shutdowns += 1;
      await shutdownMayEnd.opened;
    },
    { signals: [SIGNAL], exit: (code) => void exits.push(code) },
  );
  try {
    process.emit(SIGNAL, SIGNAL);
    process.emit(SIGNAL, SIGNAL);
    assert.equal(shutdowns, 1);
    assert.deepEqual(exits, [128 + constants.signals.SIGHUP], 'the shell convention for death by signal');
    shutdownMayEnd.open();
    // After a clean shutdown the handlers are gone, so the process can end.
    await eventually(() => process.listenerCount(SIGNAL) === othersListening);
  } finally {
    uninstall();
  }
});

test('a failing shutdown exits with 1', async () => {
  const exits: number[] = [];
  const uninstall = installShutdownHandlers(() => Promise.reject(new Error('backend would not close')), {
    signals: [SIGNAL],
    exit: (code) => void exits.push(code),
  });
  try {
    process.emit(SIGNAL, SIGNAL);
    await eventually(() => exits.length === 1);
    assert.deepEqual(exits, [1]);
  } finally {
    uninstall();
  }
});
