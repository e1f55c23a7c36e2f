import { createHash } from 'node:crypto';
import type { Rng } from '../core/rng';

/** One run outcome as the rewards pipeline received it. */
export interface Handoff {
  /** `rh_` + 21 seeded base-36 characters. */
  id: string;
  idempotencyKey: string;
  /** ISO 8601 with milliseconds, when the first delivery was recorded. */
  receivedAt: string;
  /** The JSON object as received. */
  body: Record<string, unknown>;
  /** Requests carrying this key that were answered 201 or 200 (1 + absorbed retries). */
  deliveries: number;
}

export type ReceiveResult = { kind: 'created' | 'duplicate'; handoff: Handoff } | { kind: 'conflict'; handoff: Handoff };

const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/**
 * The handoffs received, in arrival order, keyed by Idempotency-Key. A key is recorded once: the same key
 * with the same body (same JSON value: key order and whitespace do not matter) is a duplicate delivery;
 * with a different body it is a conflict and changes nothing.
 */
export class HandoffStore {
  private readonly byKey = new Map<string, { handoff: Handoff; digest: string }>();
  private readonly byId = new Map<string, Handoff>();

  constructor(
    private readonly ids: Rng,
    private readonly now: () => number,
  ) {}

  receive(key: string, body: Record<string, unknown>): ReceiveResult {
    const digest = digestOf(body);
    const known = this.byKey.get(key);
    if (known) {
      if (known.digest !== digest) return { kind: 'conflict', handoff: known.handoff };
      known.handoff.deliveries++;
      return { kind: 'duplicate', handoff: known.handoff };
    }
    const handoff: Handoff = { id: this.newId(), idempotencyKey: key, receivedAt: new Date(this.now()).toISOString(), body, deliveries: 1 };
    this.byKey.set(key, { handoff, digest });
    this.byId.set(handoff.id, handoff);
    return { kind: 'created', handoff };
  }

  /** In arrival order (Map insertion order). */
  list(): Handoff[] {
    return [...this.byId.values()];
  }

  get(id: string): Handoff | undefined {
    return this.byId.get(id);
  }

  /** Forgets every handoff; ids keep following the seeded sequence. Returns how many were removed. */
  clear(): number {
    const n = this.byId.size;
    this.byKey.clear();
    this.byId.clear();
    return n;
  }

  private newId(): string {
    let id = 'rh_';
    for (let i = 0; i < 21; i++) id += ID_ALPHABET[this.ids.int(0, ID_ALPHABET.length - 1)];
    return id;
  }
}

/** sha256 of the body's canonical JSON (object keys sorted at every level). */
function digestOf(value: unknown): string {
  return createHash('sha256').update(canonical(value)).digest('hex');
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as Record<string, unknown>)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}
