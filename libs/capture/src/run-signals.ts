import type { CredentialVault } from '@rewind/scaleout';
import { safeId } from '@rewind/recorder';
import type { CaptureTaskLogger } from '@rewind/capture-facts';
import type { RunSignals } from './task-runners';

type Name = 'bearer' | 'sessionToken' | 'activity' | 'expires';

/**
 * The runs' latest credentials and activity, in this process's memory, mirrored to the encrypted vault
 * (when there is one) so that a task running in another recorder process reads them too. Values are never
 * logged; in Redis they exist only as AES-GCM ciphertext (see scaleout/vault.ts).
 */
export class RunSignalBoard implements RunSignals {
  private readonly values = new Map<string, string>();
  private readonly mirroredActivity = new Map<string, number>();

  constructor(
    private readonly vault: CredentialVault | null,
    private readonly log: CaptureTaskLogger,
    private readonly ttlMs = 6 * 3_600_000,
    private readonly followIntervalMs = 500,
  ) {}

  putCredential(runKey: string, name: 'bearer' | 'sessionToken', value: string, expiresAtMs?: number): void {
    this.set(runKey, name, value, true);
    if (expiresAtMs !== undefined) this.set(runKey, 'expires', String(expiresAtMs), true);
  }

  touch(runKey: string, atMs: number): void {
    this.values.set(this.key(runKey, 'activity'), String(atMs));
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

  follow(runKey: string): () => void {
    if (!this.vault) return () => undefined;
    const vault = this.vault;
    let stopped = false;
    const names = ['bearer', 'sessionToken', 'activity', 'expires'] as const;
    const read = async (): Promise<void> => {
      // One round trip for the four (the vault's MGET), not one each.
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

  private set(runKey: string, name: Name, value: string, mirror: boolean): void {
    if (this.values.get(this.key(runKey, name)) === value) return;
    this.values.set(this.key(runKey, name), value);
    if (mirror) this.mirror(runKey, name, value);
  }

  private mirror(runKey: string, name: Name, value: string): void {
    this.vault?.put(safeId(runKey), name, value, this.ttlMs).catch((e: unknown) => this.log.warn(`run signals: could not mirror ${name} of a run to the vault (${(e as Error).message})`));
  }

  private key(runKey: string, name: Name): string {
    return `${runKey}|${name}`;
  }
}
