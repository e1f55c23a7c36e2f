import type { CredentialVault } from '@rewind/scaleout';
import { safeId, type TaskOffer } from '@rewind/recorder';
import type { CaptureTaskLogger } from '@rewind/capture-facts';
import { SIGNALS_READ, type RunSignals, type SignalName } from './task-runners';

/**
 * The runs' latest credentials and activity, in this process's memory, mirrored to the encrypted vault
 * (when there is one) so that a task running in another recorder process reads them too. Values are never
 * logged; in Redis they exist only as AES-GCM ciphertext (see scaleout/vault.ts).
 *
 * What is mirrored: every credential and its expiry, as it is learned (a run's pollers read them, and the outcome
 * pipeline submits a MoltStation run's snapshot with its owner's bearer from the vault); the agent's activity, at
 * most once a second, only for runs whose offered task reads it (SIGNALS_READ: the RGS poller), from the offer on
 * (`want`, called with every offer: the activity known by then is mirrored at once). Every run's activity was
 * mirrored before, once a second per run with HTTP traffic, and only the RGS poller reads it (issue 18, fixed costs).
 */
export class RunSignalBoard implements RunSignals {
  private readonly values = new Map<string, string>();
  private readonly mirroredActivity = new Map<string, number>();
  /** Runs whose activity a task reads (it is mirrored to the vault for those only). */
  private readonly activityWanted = new Set<string>();

  constructor(
    private readonly vault: CredentialVault | null,
    private readonly log: CaptureTaskLogger,
    private readonly ttlMs = 6 * 3_600_000,
    private readonly followIntervalMs = 500,
  ) {}

  /** A capture task was offered for a run: if it reads the agent's activity, that is mirrored to the vault from now on (and at once). */
  want(offer: Pick<TaskOffer, 'kind' | 'runKey'>): void {
    if (!this.vault || !SIGNALS_READ[offer.kind]?.includes('activity') || this.activityWanted.has(offer.runKey)) return;
    this.activityWanted.add(offer.runKey);
    const v = this.values.get(this.key(offer.runKey, 'activity'));
    if (v === undefined) return;
    this.mirroredActivity.set(offer.runKey, Number(v));
    this.mirror(offer.runKey, 'activity', v);
  }

  putCredential(runKey: string, name: 'bearer' | 'sessionToken', value: string, expiresAtMs?: number): void {
    this.set(runKey, name, value);
    if (expiresAtMs !== undefined) this.set(runKey, 'expires', String(expiresAtMs));
  }

  touch(runKey: string, atMs: number): void {
    this.values.set(this.key(runKey, 'activity'), String(atMs));
    if (!this.activityWanted.has(runKey)) return;
    // Activity is mirrored at most once a second per run: the pollers' gate is coarser than that.
    const last = this.mirroredActivity.get(runKey) ?? 0;
    if (atMs - last >= 1000) {
      this.mirroredActivity.set(runKey, atMs);
      this.mirror(runKey, 'activity', String(atMs));
    }
  }

  credential(runKey: string, name: 'bearer' | 'sessionToken'): string | undefined {
    return this.values.get(this.key(runKey, name));
  }

  lastActivityAtMs(runKey: string): number {
    return Number(this.values.get(this.key(runKey, 'activity')) ?? 0);
  }

  expiresAtMs(runKey: string): number | undefined {
    const v = this.values.get(this.key(runKey, 'expires'));
    return v === undefined ? undefined : Number(v);
  }

  /** Reads `names` of the run from the vault every `followIntervalMs` (one MGET) until the returned function is called. */
  follow(runKey: string, names: readonly SignalName[]): () => void {
    if (!this.vault || names.length === 0) return () => undefined;
    const vault = this.vault;
    let stopped = false;
    const read = async (): Promise<void> => {
      // One round trip for all of them (the vault's MGET), not one each.
      const values = await vault.getMany(safeId(runKey), names).catch(() => undefined);
      names.forEach((name, i) => {
        const v = values?.[i];
        if (stopped || v === undefined) return;
        if (name === 'activity' && Number(v) < this.lastActivityAtMs(runKey)) return;
        this.values.set(this.key(runKey, name), v);
      });
    };
    void read();
    const timer = setInterval(() => void read(), this.followIntervalMs);
    timer.unref();
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }

  private set(runKey: string, name: SignalName, value: string): void {
    if (this.values.get(this.key(runKey, name)) === value) return;
    this.values.set(this.key(runKey, name), value);
    this.mirror(runKey, name, value);
  }

  private mirror(runKey: string, name: SignalName, value: string): void {
    this.vault?.put(safeId(runKey), name, value, this.ttlMs).catch((e: unknown) => this.log.warn(`run signals: could not mirror ${name} of a run to the vault (${(e as Error).message})`));
  }

  private key(runKey: string, name: SignalName): string {
    return `${runKey}|${name}`;
  }
}
