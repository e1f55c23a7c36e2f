/** The ingest writer thread (see writer-thread.ts): applies each batch it is sent with `EventStore.writeBatch`. */
import { parentPort, workerData } from 'node:worker_threads';
import { createPgPool } from '@rewind/db';
import { EventStore, EventStoreError, NewEvent, StoreBatch } from '@rewind/event-store';
import { unpackEvents, WireBatch } from './packed-batch';

const { databaseUrl, poolSize, connectionTimeoutMs } = workerData as { databaseUrl: string; poolSize: number; connectionTimeoutMs: number };
const pool = createPgPool(databaseUrl, { max: poolSize, connectionTimeoutMillis: connectionTimeoutMs, application_name: 'rewind-ingest-writer' });
const store = new EventStore(pool);
const port = parentPort;

/** The batch as the store takes it: its events unpacked (see packed-batch.ts), or revived when sent as objects. */
function revive(wire: WireBatch): StoreBatch {
  const { packed, ...batch } = wire;
  if (packed) return { ...batch, events: unpackEvents(packed) };
  return reviveObjects(batch);
}

/** A structured clone turns a Buffer into a plain Uint8Array: binary bodies become Buffers again. */
function reviveObjects(batch: StoreBatch): StoreBatch {
  const events = batch.events?.map((e): NewEvent => {
    const body = e.body as unknown;
    return body instanceof Uint8Array && !Buffer.isBuffer(body) ? { ...e, body: Buffer.from(body.buffer, body.byteOffset, body.byteLength) } : e;
  });
  return { ...batch, ...(events ? { events } : {}) };
}

port?.on('message', (m: { id: number; batch: WireBatch } | { type: 'close' }) => {
  if ('type' in m) {
    void pool.end().finally(() => process.exit(0));
    return;
  }
  store.writeBatch(revive(m.batch)).then(
    (r) => port.postMessage({ id: m.id, ok: true, appended: r.appended, duplicates: r.duplicates }),
    (e: unknown) => {
      const err = e as Error & { code?: unknown };
      port.postMessage({
        id: m.id,
        ok: false,
        error: {
          name: err?.name ?? 'Error',
          message: err?.message ?? String(e),
          ...(typeof err?.code === 'string' ? { code: err.code } : {}),
          ...(e instanceof EventStoreError ? { details: JSON.parse(JSON.stringify(e.details)) as Record<string, unknown> } : {}),
        },
      });
    },
  );
});
