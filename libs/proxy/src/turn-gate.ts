import type { Writable } from 'node:stream';

/**
 * "A message is in the write-ahead log before the other side can have it" at one log write per event-loop turn
 * instead of one per message (issue 18). The recorder's log holds a turn's lines and writes them together at the
 * turn's end; the relay, in the same turn, writes the message's bytes to a corked socket. At the end of the turn
 * (`setImmediate`: after this poll phase's reads) the gate writes the log first (`flush`, synchronous), then
 * uncorks the sockets it held, so the kernel gets the bytes only once their messages are logged. A process
 * killed before that loses bytes nobody received, never a received message the log lacks.
 *
 * What it costs: a relayed message waits until the end of the turn it was read in (the rest of that poll phase's
 * reads) — measured by `rewind bench proxy`. Back-pressure still sees the held bytes (`writableLength`).
 * `end()`/`destroy()` on a held socket: the forwarder flushes the log before either (a closing socket's
 * last bytes then go out in order after their messages are logged).
 */
export class TurnGate {
  private held: Writable[] = [];
  private scheduled = false;

  constructor(private readonly flush: () => void) {}

  /** Corks `socket` until the end of this turn (once per socket per turn). */
  hold(socket: Writable): void {
    if (socket.writableCorked > 0) return;
    socket.cork();
    this.held.push(socket);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.release);
    }
  }

  /** Writes the log, then lets the held sockets' bytes go (tests; the turn's end calls it). */
  readonly release = (): void => {
    this.scheduled = false;
    const held = this.held;
    this.held = [];
    try {
      this.flush();
    } finally {
      for (const s of held) if (!s.destroyed) s.uncork();
    }
  };
}
