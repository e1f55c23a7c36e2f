export { waitFor } from '@rewind/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import type { CaptureTaskLogger } from '@rewind/capture-facts';
import type { CaptureTarget } from '../target';

export const uniqueName = (label: string): string => `t${process.pid}-${label}-${randomBytes(4).toString('hex')}`;

export function target(id: string, kind = 'test-poll'): CaptureTarget {
  return { id, kind, platform: 'test', platformSessionId: id.split(':').pop() ?? id, params: { note: 'test' } };
}

/** A logger that keeps lines (tests assert on them; set REWIND_TEST_VERBOSE=1 to print them). */
export class MemoryLog implements CaptureTaskLogger {
  readonly lines: string[] = [];
  constructor(private readonly name = '') {}
  info(m: string): void {
    this.push('info', m);
  }
  warn(m: string): void {
    this.push('warn', m);
  }
  error(m: string): void {
    this.push('error', m);
  }
  private push(level: string, m: string): void {
    const line = `${level} ${m}`;
    this.lines.push(line);
    if (process.env.REWIND_TEST_VERBOSE) process.stderr.write(`[${this.name}] ${line}\n`);
  }
}

/** Removes every key of a test's queue. */
export async function obliterate(redisUrl: string, queueName: string, prefix: string): Promise<void> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection, prefix });
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

/** One heartbeat line a fixture task writes every 100 ms. */
export interface Heartbeat {
  holder: string;
  targetId: string;
  takeover: boolean;
  attempt: number;
  previousHolder: string | null;
  previousHow: string | null;
  at: number;
}

export async function heartbeats(redis: Redis, key: string): Promise<Heartbeat[]> {
  return (await redis.lrange(key, 0, -1)).map((l) => JSON.parse(l) as Heartbeat);
}

export interface ChildEnv {
  REDIS_URL: string;
  QUEUE: string;
  PREFIX: string;
  HOLDER: string;
  HB_KEY: string;
  STOP_KEY: string;
  /** Every BUSY_EVERY_MS, block the event loop for BUSY_MS synchronously. */
  BUSY_MS?: string;
  BUSY_EVERY_MS?: string;
  LOCK_MS?: string;
  STALLED_MS?: string;
}

/** A recorder-like child process running a CaptureCoordinator with the heartbeat task. */
export class CoordinatorChild {
  readonly proc: ChildProcess;
  readonly ready: Promise<void>;
  readonly exited: Promise<number | null>;
  private output = '';

  constructor(readonly env: ChildEnv) {
    const script = join(__dirname, 'child-coordinator.ts');
    const register = join(__dirname, '../../../../scripts/register.js');
    this.proc = spawn(process.execPath, ['-r', register, script], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)));
    this.ready = new Promise((resolve, reject) => {
      this.proc.stdout?.on('data', (chunk: Buffer) => {
        this.output += chunk.toString();
        if (this.output.includes('"ready":true')) resolve();
      });
      this.proc.once('exit', (code, signal) => reject(new Error(`child ${env.HOLDER} exited (${code ?? signal}) before ready:\n${this.stderr}`)));
    });
    this.ready.catch(() => undefined);
    this.proc.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
      if (process.env.REWIND_TEST_VERBOSE) process.stderr.write(`[${env.HOLDER}] ${chunk.toString()}`);
    });
  }

  stderr = '';

  get stdout(): string {
    return this.output;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
  }
}
