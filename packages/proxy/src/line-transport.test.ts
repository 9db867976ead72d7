import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameError } from './framing.js';
import {
  type FrameInfo,
  frameInfo,
  LineTransport,
  type LineTransportOptions,
} from './line-transport.js';

interface Harness {
  transport: LineTransport;
  input: PassThrough;
  output: PassThrough;
  messages: unknown[];
  /** `frameInfo` of each message, asked while it was delivered. */
  infos: (FrameInfo | undefined)[];
  errors: Error[];
  closes: number;
  /** Everything written to `output` so far. */
  written: () => string;
}

async function open(options?: LineTransportOptions): Promise<Harness> {
  const input = new PassThrough();
  const output = new PassThrough();
  const chunks: Buffer[] = [];
  output.on('data', (chunk: Buffer) => chunks.push(chunk));
  const transport = new LineTransport(input, output, options);
  const harness: Harness = {
    transport,
    input,
    output,
    messages: [],
    infos: [],
    errors: [],
    closes: 0,
    written: () => Buffer.concat(chunks).toString('utf8'),
  };
  transport.onmessage = (message) => {
    harness.messages.push(message);
    harness.infos.push(frameInfo(message));
  };
  transport.onerror = (error) => harness.errors.push(error);
  transport.onclose = () => harness.closes++;
  await transport.start();
  return harness;
}

/** Waits until `condition` holds, polling every few milliseconds. */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await sleep(2);
  }
}

const request = (id: number): JSONRPCMessage => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'echo', arguments: { n: id } },
});

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe('LineTransport', () => {
  it('delivers messages in order as their lines arrive, across chunks', async () => {
    const h = await open();
    h.input.write('{"id":1}\n{"id"');
    h.input.write(':2}\r\n\n{"id":3}\n');
    await until(() => h.messages.length === 3);
    expect(h.messages).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    expect(h.errors).toEqual([]);
  });

  it('delivers whatever JSON a line holds: a batch, a number, a string', async () => {
    const h = await open();
    h.input.write('[{"id":1},{"id":2}]\n7\n"text"\n');
    await until(() => h.messages.length === 3);
    expect(h.messages).toEqual([[{ id: 1 }, { id: 2 }], 7, 'text']);
  });

  it('remembers the wire bytes, size and duplicate keys of each delivered object', async () => {
    const h = await open();
    const line = '{ "id": 1,  "method":"a", "method":"b", "params":{"é":1} }';
    h.input.write(`${line}\r\n[{"x":1}]\n`);
    await until(() => h.messages.length === 2);
    expect(h.infos[0]).toEqual({
      line: Buffer.from(line),
      bytes: Buffer.byteLength(line),
      duplicateKeys: [{ path: [], key: 'method' }],
    });
    expect(h.infos[1]).toEqual({
      line: Buffer.from('[{"x":1}]'),
      bytes: 9,
      duplicateKeys: [],
    });
    // Kept for the delivery only, and never for a value the transport did not deliver.
    expect(frameInfo(h.messages[0] as object)).toBeUndefined();
    expect(frameInfo({ id: 1 })).toBeUndefined();
  });

  it('leaves duplicate keys untracked when asked to', async () => {
    const h = await open({ trackDuplicateKeys: false });
    h.input.write('{"a":1,"a":2}\n');
    await until(() => h.messages.length === 1);
    expect(h.infos[0]?.duplicateKeys).toEqual([]);
  });

  it('reports each bad line as a FrameError and goes on with the next', async () => {
    const h = await open({ maxMessageBytes: 1000 });
    h.input.write(`{"id":5,"big":"${'x'.repeat(3000)}"}\n`);
    h.input.write(
      Buffer.concat([Buffer.from('{"id":"u","a":"'), Buffer.from([0xff]), Buffer.from('"}\n')]),
    );
    h.input.write('{"id":6,,}\n');
    h.input.write(`${'['.repeat(257)}${']'.repeat(257)}\n`);
    h.input.write('{"id":7}\n');
    await until(() => h.messages.length === 1);
    expect(h.messages).toEqual([{ id: 7 }]);
    expect(h.errors.every((error) => error instanceof FrameError)).toBe(true);
    expect(h.errors.map((error) => (error as FrameError).kind)).toEqual([
      'too_large',
      'not_utf8',
      'parse',
      'too_deep',
    ]);
    expect(h.errors.map((error) => (error as FrameError).sniffedId)).toEqual([
      5,
      'u',
      6,
      undefined,
    ]);
    expect(h.errors[0]?.message).toBe('message of 3017 bytes exceeds the 1000-byte limit');
    expect(h.closes).toBe(0);
  });

  it('delivers a final unterminated line at EOF, then closes once', async () => {
    const h = await open();
    const order: string[] = [];
    h.transport.onmessage = (message) => order.push(`message ${JSON.stringify(message)}`);
    h.transport.onclose = () => order.push('close');
    h.input.end('{"id":1}\n{"id":2}');
    await until(() => order.includes('close'));
    await h.transport.close();
    expect(order).toEqual(['message {"id":1}', 'message {"id":2}', 'close']);
    expect(h.output.writableEnded).toBe(true);
  });

  it('closes once however often close is called, ending the writable', async () => {
    const h = await open();
    const finished = once(h.output, 'finish');
    await Promise.all([h.transport.close(), h.transport.close()]);
    await h.transport.close();
    h.input.end('{"id":1}\n');
    await finished;
    await sleep(5);
    expect(h.closes).toBe(1);
    expect(h.messages).toEqual([]);
    expect(h.input.listenerCount('data')).toBe(0);
    await expect(h.transport.send(request(1))).rejects.toThrow(
      'line transport: cannot send, the transport is closed',
    );
  });

  it('stops delivering the rest of a chunk once a handler closes the transport', async () => {
    const h = await open();
    h.transport.onmessage = (message) => {
      h.messages.push(message);
      void h.transport.close();
    };
    h.input.write('{"id":1}\n{"id":2}\n');
    await until(() => h.closes === 1);
    expect(h.messages).toEqual([{ id: 1 }]);
  });

  it('refuses to start twice', async () => {
    const h = await open({ label: 'client stdio' });
    await expect(h.transport.start()).rejects.toThrow('client stdio: already started');
  });

  it('writes sent and raw messages as lines, in call order', async () => {
    const h = await open();
    const sends = [
      h.transport.send(request(1)),
      h.transport.sendRaw('{"jsonrpc":"2.0", "id":2,"result":{}}'),
      h.transport.send(request(3)),
    ];
    await Promise.all(sends);
    expect(h.written()).toBe(
      `${JSON.stringify(request(1))}\n{"jsonrpc":"2.0", "id":2,"result":{}}\n${JSON.stringify(request(3))}\n`,
    );
  });

  it('refuses raw text that holds a line break', async () => {
    const h = await open();
    await expect(h.transport.sendRaw('{"a":1}\n{"b":2}')).rejects.toThrow(/line break/);
    await expect(h.transport.sendRaw('{"a":\r1}')).rejects.toThrow(/line break/);
    expect(h.written()).toBe('');
  });

  it('writes the lines sent in one tick as one chunk, resolving each send once it is flushed', async () => {
    const flushed: string[] = [];
    const slow = new Writable({
      highWaterMark: 1024 * 1024,
      write(chunk: Buffer, _encoding, callback) {
        setTimeout(() => {
          flushed.push(chunk.toString());
          callback();
        }, 5);
      },
    });
    const transport = new LineTransport(new PassThrough(), slow);
    await transport.start();
    await transport.drain();
    const first = transport.send(request(1)).then(() => [...flushed]);
    void transport.send(request(2));
    void transport.sendRaw('{"id":3}');
    await transport.drain();
    const lines = `${JSON.stringify(request(1))}\n${JSON.stringify(request(2))}\n{"id":3}\n`;
    expect(flushed).toEqual([lines]);
    expect(await first).toEqual([lines]);
    expect(slow.writableLength).toBe(0);
    void transport.send(request(4));
    await transport.drain();
    expect(flushed).toEqual([lines, `${JSON.stringify(request(4))}\n`]);
  });

  it('sends raw bytes in order with the lines around them, and refuses bytes holding a line break', async () => {
    const chunks: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString());
        callback();
      },
    });
    const transport = new LineTransport(new PassThrough(), sink);
    await transport.start();
    void transport.send(request(1));
    void transport.sendRaw(Buffer.from('{"id":2,"result":"é"}'));
    void transport.send(request(3));
    await transport.drain();
    expect(chunks.join('')).toBe(
      `${JSON.stringify(request(1))}\n{"id":2,"result":"é"}\n${JSON.stringify(request(3))}\n`,
    );
    await expect(transport.sendRaw(Buffer.from('{"a":\r1}'))).rejects.toThrow(/line break/);
  });

  it('tells onRawWritten the size of raw bytes and the buffers once they are written, and nothing for sent text', async () => {
    const callbacks: (() => void)[] = [];
    const sink = new Writable({
      write(_chunk: Buffer, _encoding, callback) {
        callbacks.push(() => callback());
      },
    });
    const written: number[] = [];
    const buffers: (readonly Buffer[])[] = [];
    const transport = new LineTransport(new PassThrough(), sink, {
      onRawWritten: (bytes, raw) => {
        written.push(bytes);
        buffers.push(raw);
      },
    });
    await transport.start();
    void transport.send(request(1));
    await until(() => callbacks.length === 1);
    callbacks.shift()?.();
    await transport.drain();
    expect(written).toEqual([]);

    const big = Buffer.alloc(300 * 1024, 0x61);
    const parts = [Buffer.from('{"id":3,'), Buffer.from('"result":{}}')];
    const small = Buffer.from('{"id":2}');
    const sent = transport.sendRaw(big);
    void transport.sendRaw(small);
    void transport.sendRaw(parts);
    await until(() => callbacks.length > 0);
    // Still in the stream's hands: the buffers are not garbage yet.
    expect(written).toEqual([]);
    while (callbacks.length > 0) callbacks.shift()?.();
    await sent;
    await transport.drain();
    expect(written).toEqual([big.length + small.length + 20]);
    // The very buffers, in order.
    expect(buffers).toHaveLength(1);
    expect(buffers[0]?.length).toBe(4);
    [big, small, ...parts].forEach((buffer, index) => {
      expect(buffers[0]?.[index]).toBe(buffer);
    });
  });

  it('tells onRawWritten nothing of raw bytes whose write failed', async () => {
    const sink = new Writable({
      write(_chunk: Buffer, _encoding, callback) {
        callback(new Error('EPIPE'));
      },
    });
    sink.on('error', () => {});
    const written: number[] = [];
    const transport = new LineTransport(new PassThrough(), sink, {
      onRawWritten: (bytes) => written.push(bytes),
    });
    await transport.start();
    await expect(transport.sendRaw(Buffer.alloc(300 * 1024, 0x61))).rejects.toThrow(/EPIPE/);
    expect(written).toEqual([]);
  });

  it('delivers a large answer that came in several reads as its envelope, and relays those reads unjoined', async () => {
    const h = await open({ lazyMessageBytes: 64 });
    const text = `{"result":{"content":[{"type":"text","text":"é${'x'.repeat(100)}"}]},"jsonrpc":"2.0","id":7}`;
    const bytes = Buffer.from(text);
    // Cut inside the two bytes of é and inside the "id" key.
    const inE = bytes.indexOf('é') + 1;
    const inId = bytes.lastIndexOf('"id"') + 2;
    const reads = [bytes.subarray(0, inE), bytes.subarray(inE, inId), bytes.subarray(inId)];
    for (const read of reads) h.input.write(read);
    h.input.write('\n');
    await until(() => h.messages.length === 1);
    expect(h.errors).toEqual([]);
    expect(h.messages).toEqual([{ result: null, jsonrpc: '2.0', id: 7 }]);
    const info = h.infos[0];
    expect(info?.bytes).toBe(bytes.length);
    // The reads' own memory, not copies of it.
    const where = (part: Buffer) => [part.buffer, part.byteOffset, part.length];
    expect(info?.parts?.map(where)).toEqual(reads.map(where));

    const out = await open();
    await out.transport.sendRaw(info?.parts ?? []);
    expect(out.written()).toBe(`${text}\n`);
    expect(info?.line.toString()).toBe(text);
    expect(info?.complete?.()).toEqual({ ok: true, value: JSON.parse(text) });
  });

  it('reads a large answer in full when its reads, put together, are not UTF-8, and refuses it', async () => {
    const h = await open({ lazyMessageBytes: 64 });
    const head = Buffer.from(`{"result":"${'x'.repeat(100)}`);
    // 0xE2 0x82 begins a three-byte sequence that 0x28 does not complete: each read alone is
    // fine up to its end, only the two together are invalid.
    h.input.write(Buffer.concat([head, Buffer.from([0xe2, 0x82])]));
    h.input.write(Buffer.from('(","jsonrpc":"2.0","id":7}\n'));
    await until(() => h.errors.length === 1);
    expect(h.messages).toEqual([]);
    expect(h.errors[0]).toBeInstanceOf(FrameError);
    expect((h.errors[0] as FrameError).kind).toBe('not_utf8');
  });

  it('reports a write error, rejects the send and closes', async () => {
    const broken = new Writable({
      write(_chunk, _encoding, callback) {
        callback(new Error('disk on fire'));
      },
    });
    const transport = new LineTransport(new PassThrough(), broken);
    const errors: Error[] = [];
    let closes = 0;
    transport.onerror = (error) => errors.push(error);
    transport.onclose = () => closes++;
    await transport.start();
    await expect(transport.send(request(1))).rejects.toThrow('disk on fire');
    await until(() => closes === 1);
    expect(errors.map((error) => error.message)).toEqual(['disk on fire']);
  });

  it('rejects every send of a batch whose write failed, and the next batch too', async () => {
    const chunks: string[] = [];
    const broken = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString());
        callback(new Error('disk on fire'));
      },
    });
    const transport = new LineTransport(new PassThrough(), broken);
    transport.onerror = () => {};
    await transport.start();
    const sends = [
      transport.send(request(1)),
      transport.sendRaw('{"id":2}'),
      transport.sendRaw(Buffer.from('{"id":3}')),
    ];
    const outcomes = await Promise.allSettled(sends);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(chunks).toHaveLength(1);
    await expect(transport.send(request(4))).rejects.toThrow(/closed/);
  });

  it('reports a stream error on the readable, then closes', async () => {
    const h = await open();
    h.input.destroy(new Error('connection reset'));
    await until(() => h.closes === 1);
    expect(h.errors.map((error) => error.message)).toEqual(['connection reset']);
  });

  it('reports a throwing message handler and goes on', async () => {
    const h = await open({ label: 'upstream' });
    h.transport.onmessage = (message) => {
      if ((message as { id?: number }).id === 1) throw new Error('handler bug');
      h.messages.push(message);
    };
    h.input.write('{"id":1}\n{"id":2}\n');
    await until(() => h.messages.length === 1);
    expect(h.messages).toEqual([{ id: 2 }]);
    expect(h.errors[0]?.message).toBe('upstream: the message handler threw');
    expect(h.errors[0]?.cause).toMatchObject({ message: 'handler bug' });
  });

  it('talks to a real child process over its pipes, which sees EOF on close', async () => {
    const child = spawn(process.execPath, ['-e', 'process.stdin.pipe(process.stdout)'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    cleanups.push(() => child.kill());
    const transport = new LineTransport(child.stdout, child.stdin, { label: 'echo server' });
    const messages: unknown[] = [];
    let closes = 0;
    const infos: (FrameInfo | undefined)[] = [];
    transport.onmessage = (message) => {
      messages.push(message);
      infos.push(frameInfo(message));
    };
    transport.onclose = () => closes++;
    await transport.start();
    await transport.send(request(1));
    await transport.sendRaw('{"jsonrpc":"2.0","id":2,"result":{"a":1,"a":2}}');
    await until(() => messages.length === 2);
    expect(messages[0]).toEqual(request(1));
    expect(infos[1]?.duplicateKeys).toEqual([{ path: ['result'], key: 'a' }]);
    const exited = once(child, 'exit');
    await transport.close();
    expect(await exited).toEqual([0, null]);
    expect(closes).toBe(1);
  });

  it('reports EPIPE from a peer that closed its input instead of crashing', async () => {
    const script =
      "require('fs').closeSync(0); process.stdout.write('1\\n'); setTimeout(() => {}, 5000)";
    const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    cleanups.push(() => child.kill());
    const transport = new LineTransport(child.stdout, child.stdin);
    const messages: unknown[] = [];
    const errors: Error[] = [];
    let closes = 0;
    transport.onmessage = (message) => messages.push(message);
    transport.onerror = (error) => errors.push(error);
    transport.onclose = () => closes++;
    await transport.start();
    await until(() => messages.length === 1);
    await expect(transport.send(request(1))).rejects.toMatchObject({ code: 'EPIPE' });
    await until(() => closes === 1);
    expect(errors.map((error) => (error as NodeJS.ErrnoException).code)).toEqual(['EPIPE']);
    await expect(transport.send(request(2))).rejects.toThrow(/closed/);
  });

  it('refuses to send to a child that has exited, and closes once started', async () => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: ['pipe', 'pipe', 'inherit'] });
    await once(child, 'exit');
    const transport = new LineTransport(child.stdout, child.stdin, { label: 'gone' });
    let closes = 0;
    transport.onclose = () => closes++;
    await expect(transport.send(request(1))).rejects.toThrow(
      'gone: cannot send, the output stream is closed',
    );
    await transport.start();
    await until(() => closes === 1);
  });

  it('talks over a real TCP socket pair, and the peer closes when one side does', async () => {
    const server = createServer();
    cleanups.push(() => server.close());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    const accepted = once(server, 'connection') as Promise<[Socket]>;
    const clientSocket = connect(address.port, '127.0.0.1');
    await once(clientSocket, 'connect');
    const [serverSocket] = await accepted;

    const client = new LineTransport(clientSocket, clientSocket, { label: 'tcp client' });
    const serverSide = new LineTransport(serverSocket, serverSocket, { label: 'tcp server' });
    const received: unknown[] = [];
    let serverCloses = 0;
    serverSide.onmessage = (message) => {
      received.push(message);
      void serverSide.send({ jsonrpc: '2.0', id: (message as { id: number }).id, result: {} });
    };
    serverSide.onclose = () => serverCloses++;
    const replies: unknown[] = [];
    client.onmessage = (message) => replies.push(message);
    await serverSide.start();
    await client.start();

    for (let id = 1; id <= 3; id++) await client.send(request(id));
    await until(() => replies.length === 3);
    expect(received).toEqual([request(1), request(2), request(3)]);
    expect(replies.map((reply) => (reply as { id: number }).id)).toEqual([1, 2, 3]);

    await client.close();
    await until(() => serverCloses === 1);
    await until(() => clientSocket.destroyed && serverSocket.destroyed);
  });
});
