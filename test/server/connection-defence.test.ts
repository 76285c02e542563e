// The server defends its connections: a client that sends nothing, half the headers or half a body is
// answered 408 and disconnected within server.timeouts; a request Node cannot parse (400) or whose headers
// are too large (431) gets the documented error shape and a closed connection, so a keep-alive client never
// reuses a socket the parser has given up on.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { openRaw, parseRawResponse } from '../support/raw-http.ts';
import type { RawConnection } from '../support/raw-http.ts';
import { startTestServer } from './harness.ts';
import type { TestServer } from './harness.ts';

const VALID_REQUEST = 'GET /healthz HTTP/1.1\r\nHost: crmsync\r\n\r\n';

/** Waits until the server closed `connection`, then returns what it answered. */
async function answerBeforeClose(connection: RawConnection) {
  await eventually(() => connection.closed(), { timeoutMs: 5_000 });
  return connection.received();
}

/** Checks a raw error answer: status, `{"error":{"code","message"}}`, `Connection: close`. */
function assertErrorAnswer(text: string, status: number, code: string): void {
  const response = parseRawResponse(text);
  assert.equal(response.status, status, text);
  assert.equal(response.headers['connection'], 'close');
  assert.equal(response.headers['content-type'], 'application/json');
  const body = JSON.parse(response.body) as { error: { code: string; message: string } };
  assert.deepEqual(Object.keys(body), ['error']);
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, 'string');
}

describe('connection timeouts', () => {
  let server: TestServer;
  const open: RawConnection[] = [];
  before(async () => {
    server = await startTestServer({ timeouts: { headersMs: 200, requestMs: 400, keepAliveMs: 200 } });
  });
  after(async () => {
    for (const connection of open) connection.destroy();
    await server.close();
  });
  const connect = async () => {
    const connection = await openRaw(server.url);
    open.push(connection);
    return connection;
  };

  it('answers 408 and closes a connection that sends nothing', async () => {
    const connection = await connect();
    assertErrorAnswer(await answerBeforeClose(connection), 408, 'REQUEST_TIMEOUT');
  });

  it('answers 408 and closes a connection that sends half the headers', async () => {
    const connection = await connect();
    connection.send('POST /webhooks/source HTTP/1.1\r\nHost: crmsync\r\n');
    assertErrorAnswer(await answerBeforeClose(connection), 408, 'REQUEST_TIMEOUT');
  });

  it('answers 408 and closes a connection that sends half a body', async () => {
    const connection = await connect();
    connection.send(
      'POST /webhooks/source HTTP/1.1\r\nHost: crmsync\r\nContent-Type: application/json\r\n' +
        'Content-Length: 100\r\n\r\n{"entityType":',
    );
    assertErrorAnswer(await answerBeforeClose(connection), 408, 'REQUEST_TIMEOUT');
  });

  it('closes an idle keep-alive connection', async () => {
    const connection = await connect();
    connection.send(VALID_REQUEST);
    await answerBeforeClose(connection);
    assert.equal(parseRawResponse(connection.received()).status, 200);
  });
});

describe('requests the HTTP parser refuses', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  it('answers 400 with the error shape and closes the connection, also after a kept-alive request', async () => {
    const connection = await openRaw(server.url);
    connection.send(VALID_REQUEST);
    await eventually(() => connection.received().includes('{"status":"ok"}'));
    assert.equal(connection.closed(), false, 'kept alive after a good request');
    const before = connection.received().length;
    connection.send('GET /healthz HTTP/1.1\r\nHost: crmsync\r\nBad Header Line\r\n\r\n');
    const text = (await answerBeforeClose(connection)).slice(before);
    assertErrorAnswer(text, 400, 'BAD_REQUEST');
  });

  it('answers 431 with the error shape and closes the connection when the headers are too large', async () => {
    const connection = await openRaw(server.url);
    connection.send(`GET /healthz HTTP/1.1\r\nHost: crmsync\r\nX-Big: ${'x'.repeat(20_000)}\r\n\r\n`);
    assertErrorAnswer(await answerBeforeClose(connection), 431, 'HEADERS_TOO_LARGE');
  });
});
