import type { EndSignal, Fingerprint, HttpAttribution, HttpExchange, RunAtClose, SocketClose, WsAttribution, WsMessageSignal } from './attribution';
import type { Platformed } from './evidence/read';
import type { EvidenceStream, Finding, RunEvidence } from './evidence/types';
import type { Json, WsClassification } from './frames';
import type { CaptureTaskKind, PlatformId } from './platforms';
import type { RedactionRules } from './redaction';
import type { PlatformReplayStream } from './replay';
import type { VerifyResult, VerifyRoundInput } from './rgs/provably-fair';

/**
 * Everything the product knows about one platform's protocol, in one module (libs/platforms/src/<id>/). The
 * recorder, the encoder, the audit and the replay gateway ask the registry (`platformOf`) for these parts
 * instead of switching on the platform's name. docs/adding-a-platform.md says where each part is used.
 */
export interface Platform {
  /** Ids and types. */
  readonly id: PlatformId;
  /** The platform's name as people write it (logs, docs). */
  readonly title: string;
  /** The capture tasks a run of this platform may get besides the proxy's stream (spectator, pollers). */
  readonly taskKinds: readonly CaptureTaskKind[];

  /** Attribution of connections and requests to runs and agents (the recorder's lifecycle decider). */
  readonly attribution: PlatformAttribution;
  /** Outcome extraction: the run's outcome from what was recorded, and its figures in a run summary. */
  readonly outcome: PlatformOutcome;
  /** The audit's checks of a run of this platform (recomputations from the platform's own messages). */
  readonly audit: PlatformAudit;
  /** Provably-fair verification of a round (RGS), or null where the platform has none. */
  readonly provablyFair: ProvablyFair | null;
  /** Frame validators: what a WebSocket message is (its kind, type, tick, request id), which frame is a game frame. */
  readonly frames: PlatformFrames;
  /** The encoding of its platform-compatible replay stream, or null where the gateway serves only the generic one. */
  readonly replay: PlatformReplayStream | null;
  /** Which fields, headers and URL parameters of its traffic are secrets. */
  readonly redaction: RedactionRules;
}

export interface PlatformAttribution {
  /** The stream (run or account) an HTTP exchange belongs to, and what it tells about the run. */
  http(x: HttpExchange, fp: Fingerprint): HttpAttribution;
  /** The stream of a WebSocket connection, from its path. */
  ws(path: string, connectionId: string): WsAttribution;
  /**
   * Whether an HTTP request (method, path with its query) opens a new run — a launch, a session start — judged
   * before it is forwarded: the recorder's admission control refuses these while it is overloaded, and lets the
   * requests of runs it already records through.
   */
  opensRun(method: string, path: string): boolean;
  /** What a WebSocket message tells about its run (the agent's name, a final frame, a logout). Cheap for most messages. */
  wsMessage(fromClient: boolean, text: string): WsMessageSignal;
  /**
   * Whether a new socket is held (not attributed) until a message names its agent, its first client message,
   * or a few messages (SpaceMolt: the run is the connection, its agent comes with the login).
   */
  readonly holdSocketUntilNamed: boolean;
  /** How a socket's close ends its run, or undefined when it does not (the run goes on, or ends otherwise). */
  socketClosed(close: SocketClose, run: RunAtClose): EndSignal | undefined;
  /**
   * A run whose expiry slides with its activity (RGS: every authenticated call extends the session by a TTL):
   * the recorder ends it when the expiry passes. `tokenRunTask`: the capture task a run first seen by its token
   * gets (its launch went around the proxy). Absent: runs end on the platform's signals or when idle.
   */
  readonly slidingExpiry?: { tokenRunTask: CaptureTaskKind };
}

export interface PlatformOutcome {
  /** The outcome of a run from its final frame and the close reason (MoltStation), or undefined where runs have no final frame. */
  fromFinalFrame?(finalFrame: Record<string, unknown> | null, closeReason: string | null): Record<string, unknown>;
  /** The platform's own figures of a run summary (score, lives lost, credits, rounds…), from the recorder's streams. */
  summarize(run: RunEvidence, recorder: readonly EvidenceStream[]): Platformed;
}

export interface PlatformAudit {
  /** The checks' findings for one run (their names start with the platform's id: `moltstation.score`…). */
  check(run: RunEvidence): Finding[];
}

export interface ProvablyFair {
  verifyRound(input: VerifyRoundInput): VerifyResult;
}

export interface PlatformFrames {
  /**
   * What one parsed WebSocket message is (the first object of an NDJSON batch stands for the batch). The recorder
   * hands it the message's `frameView` (only `t`, `type`, `request_id` and `frame.tick`), not the whole parse: a
   * classifier that reads another field adds it there (frame-view.spec.ts holds every classifier to the parse).
   */
  classify(fromClient: boolean, msg: Json): WsClassification;
  /** The game frame a message carries (MoltStation `{t:"frame", frame}`), or undefined (also for platforms without frames). */
  frameOf(msg: unknown): Record<string, unknown> | undefined;
  /**
   * Per game, what is wrong with a frame as the platform's own client checks it (none: valid). MoltStation's
   * FlappyBots spectate page drops a frame that fails; the simulator's frames must pass. Empty: no frame rules.
   */
  readonly validators: Readonly<Record<string, (frame: unknown) => string[]>>;
}
