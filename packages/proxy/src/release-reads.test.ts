import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { releaseReads, writesLeaveOnCompletion } from './release-reads.js';

const canTransfer =
  typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function';

/** The reads a child's stdout delivers while the child writes `bytes` bytes of `fill`. */
async function childReads(bytes: number, fill: string): Promise<Buffer[]> {
  const script = `process.stdout.write(${JSON.stringify(fill)}.repeat(${bytes}))`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const reads: Buffer[] = [];
  child.stdout.on('data', (read: Buffer) => reads.push(read));
  await new Promise((resolve) => child.on('close', resolve));
  return reads;
}

describe('releaseReads', () => {
  it("empties a child's stdout reads that own all their memory, and counts their bytes", async () => {
    const reads = await childReads(1_000_000, 'r');
    expect(Buffer.concat(reads).toString()).toBe('r'.repeat(1_000_000));
    // What the runners rely on: each read has an ArrayBuffer of its own. Most span all of it;
    // Node 24 leaves a few in a larger one, and those are not released.
    expect(new Set(reads.map((read) => read.buffer)).size).toBe(reads.length);
    const spanning = reads.filter(
      (read) => read.byteOffset === 0 && read.byteLength === read.buffer.byteLength,
    );
    const spanned = spanning.reduce((sum, read) => sum + read.length, 0);
    expect(spanned).toBeGreaterThan(500_000);
    const partial = reads.filter((read) => !spanning.includes(read));
    const partialBytes = partial.map((read) => read.length);

    expect(releaseReads(reads)).toBe(spanned);
    for (const read of spanning) {
      expect(read.length).toBe(0);
      expect(read.buffer.byteLength).toBe(0);
    }
    expect(partial.map((read) => read.length)).toEqual(partialBytes);
    expect(partial.every((read) => read.every((byte) => byte === 0x72))).toBe(true);
  });

  it.runIf(canTransfer)('frees their memory at once, before any garbage collection', () => {
    const reads = Array.from({ length: 16 }, () => Buffer.alloc(1024 * 1024, 0x61));
    const before = process.memoryUsage().arrayBuffers;
    releaseReads(reads);
    const freed = before - process.memoryUsage().arrayBuffers;
    expect(freed).toBeGreaterThanOrEqual(16 * 1024 * 1024);
  });

  it('leaves alone a buffer that shares its memory: a slice, a pooled buffer, a shared one', () => {
    const whole = Buffer.alloc(100_000, 0x62);
    const slice = whole.subarray(0, 50_000);
    const pooled = Buffer.from('pooled text');
    const neighbour = Buffer.from('its neighbour in the pool');
    const shared = Buffer.from(new SharedArrayBuffer(4096));
    shared.fill(0x63);
    expect(releaseReads([slice, whole.subarray(50_000), pooled, shared])).toBe(0);
    expect(whole.equals(Buffer.alloc(100_000, 0x62))).toBe(true);
    expect(slice.length).toBe(50_000);
    expect(pooled.toString()).toBe('pooled text');
    expect(neighbour.toString()).toBe('its neighbour in the pool');
    expect(shared.every((byte) => byte === 0x63)).toBe(true);
  });

  it('leaves alone memory that cannot be detached, and goes on with the others', () => {
    // This project's TypeScript libraries leave WebAssembly's types out.
    const { WebAssembly } = globalThis as unknown as {
      WebAssembly: { Memory: new (pages: { initial: number }) => { buffer: ArrayBuffer } };
    };
    const wasm = Buffer.from(new WebAssembly.Memory({ initial: 1 }).buffer);
    wasm.fill(0x64);
    const own = Buffer.alloc(10_000, 0x65);
    expect(releaseReads([wasm, own, Buffer.alloc(0)])).toBe(10_000);
    expect(wasm.length).toBe(65_536);
    expect(wasm.every((byte) => byte === 0x64)).toBe(true);
    expect(own.length).toBe(0);
  });
});

describe('writesLeaveOnCompletion', () => {
  it('holds for process.stdout and sockets, not for a stream that keeps what it was given', () => {
    expect(writesLeaveOnCompletion(process.stdout)).toBe(true);
    expect(writesLeaveOnCompletion(new PassThrough())).toBe(false);
  });
});
