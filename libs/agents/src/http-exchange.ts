/**
 * One HTTP exchange of a bot (fetch, then the whole body), with its own abort signal following the bot's.
 *
 * A bot run shares one AbortSignal among all its requests (the soak's bots share one for every run: "stop"). fetch
 * (undici) puts an abort listener on the signal it is given and removes it only when the request object is
 * garbage-collected, so a shared signal handed to every fetch collected listeners: node warned of 1,501 abort
 * listeners on one AbortSignal in the soak's bots process. Here the shared signal holds one listener per exchange in
 * flight, removed when the exchange ends (answer read, or failed); fetch gets a signal of the exchange's own.
 */
export async function httpExchange<T>(url: string, init: Omit<RequestInit, 'signal'>, signal: AbortSignal | undefined, read: (res: Response) => Promise<T>): Promise<{ res: Response; body: T }> {
  const own = followSignal(signal);
  try {
    const res = await fetch(url, { ...init, signal: own.signal });
    return { res, body: await read(res) };
  } finally {
    own.release();
  }
}

/** A signal of its own that aborts when `parent` does, until `release()` (which removes its listener from `parent`). */
export function followSignal(parent: AbortSignal | undefined): { signal: AbortSignal | undefined; release: () => void } {
  if (!parent) return { signal: undefined, release: () => undefined };
  const controller = new AbortController();
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { signal: controller.signal, release: () => undefined };
  }
  const onAbort = (): void => controller.abort(parent.reason);
  parent.addEventListener('abort', onAbort, { once: true });
  return { signal: controller.signal, release: () => parent.removeEventListener('abort', onAbort) };
}

/**
 * What a bot records of an exchange that got no answer (a transport failure: connection refused or reset, socket
 * closed, aborted): the error and its cause's code, e.g. `fetch failed (ECONNRESET)`. The traffic log keeps it as
 * the exchange's `received` entry with `meta.error` and no status, so the exchange is counted (and reconciled) too.
 */
export function transportError(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  const cause = err?.cause?.code ?? err?.cause?.message;
  return `${err?.message ?? String(e)}${cause ? ` (${cause})` : ''}`;
}
