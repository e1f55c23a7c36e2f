import type { PlatformContext } from '../core/types';
import { GameError, notImplemented, Outcome, unknownCommand } from './errors';
import { cargoUsed, newPlayer, Player, Sink } from './state';
import { V1_COMMANDS } from './spec-data';
import { World } from './world';
import { executeMutation, runQuery, StepResult } from './commands';
import { GAMESERVER_VERSION, RELEASE_DATE, releaseNotes } from './version';

/** Where a queued mutation came from, and how its outcome goes back. */
export interface ActionOrigin {
  /** The connection that submitted it (the request_id is echoed only if it is still the player's connection). */
  sink?: Sink;
  /** WS: send the direct action_result/action_error (with the request_id). */
  reply?: (type: 'action_result' | 'action_error', payload: Record<string, unknown>) => void;
  /** HTTP: the blocked request resumes with the outcome. */
  done?: (outcome: Outcome, tick: number) => void;
}

export interface PendingAction {
  player: Player;
  command: string;
  payload: Record<string, unknown>;
  origin: ActionOrigin;
  flags: Record<string, unknown>;
  /** Set once the action started a multi-tick transit. */
  inTransit?: boolean;
}

export interface GameOptions {
  tickMs: number;
}

/** v2 actions with no v1 counterpart. */
const V2_ONLY_COMMANDS = new Set(['get_location', 'get_player', 'get_state', 'get_queue', 'get_ships', 'login_token']);
const COMMANDS = new Map(V1_COMMANDS.map(([name, mutation, summary, category]) => [name, { mutation, summary, category }]));

/** Mutations the simulator implements (all other mutations of the v1 spec answer not_implemented). */
export const IMPLEMENTED_MUTATIONS = new Set(['undock', 'dock', 'travel', 'jump', 'mine', 'sell', 'buy', 'refuel', 'attack']);
/** Their HTTP result is `PendingActionResponse` (spec), the outcome arriving as an action_result notification. */
export const PENDING_ENVELOPE_MUTATIONS = new Set(['mine', 'dock', 'jump', 'attack']);

/**
 * The game engine: players, the tick clock and the per-player pending mutation (one per tick). Transport-agnostic:
 * the WebSocket and HTTP layers register sinks and submit commands.
 */
export class Game {
  readonly world: World;
  readonly players = new Map<string, Player>();
  readonly playersById = new Map<string, Player>();
  readonly pending: PendingAction[] = [];
  tick: number;
  private timer?: NodeJS.Timeout;
  private readonly timers = new Set<NodeJS.Timeout>();
  private chatSeq = 0;
  /** Called at every tick after actions resolve (the transports check close/drop faults there). */
  onTick: (tick: number) => void = () => undefined;

  constructor(
    readonly ctx: PlatformContext,
    readonly options: GameOptions,
  ) {
    this.world = new World(ctx.rng.fork('world'));
    this.tick = ctx.rng.fork('clock').int(100000, 199999);
  }

  nowIso(): string {
    return new Date(this.ctx.now()).toISOString();
  }

  start(): void {
    this.timer = setInterval(() => this.advance(), this.options.tickMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.pending.length = 0;
  }

  /** A v1 command (= WebSocket command), or for v2 also the v2-only actions. */
  isKnown(command: string, flavour: 'v1' | 'v2' = 'v1'): boolean {
    return COMMANDS.has(command) || (flavour === 'v2' && V2_ONLY_COMMANDS.has(command));
  }

  isMutation(command: string): boolean {
    return COMMANDS.get(command)?.mutation ?? false;
  }

  commandList(): { name: string; description: string; category: string; is_mutation: boolean }[] {
    return V1_COMMANDS.map(([name, mutation, summary, category]) => ({ name, description: summary, category, is_mutation: mutation }));
  }

  // ---- accounts -----------------------------------------------------------------------------------------------

  register(payload: Record<string, unknown>): Player {
    const username = payload['username'];
    const empire = payload['empire'];
    const code = payload['registration_code'];
    if (typeof code !== 'string' || !code.trim()) throw new GameError('registration_code_required', 'A registration code is required. Get one at https://spacemolt.com/dashboard');
    if (typeof username !== 'string' || [...username].length < 3 || [...username].length > 24 || !/^[\p{L}\p{N}\p{Extended_Pictographic} _\-'.!]+$/u.test(username))
      throw new GameError('invalid_username', 'Username must be 3-24 characters: letters, digits, spaces, underscores, hyphens, apostrophes, periods, exclamation marks or emoji.');
    if (typeof empire !== 'string' || !['solarian', 'voidborn', 'crimson', 'nebula', 'outerrim'].includes(empire))
      throw new GameError('invalid_empire', 'Empire must be one of: solarian, voidborn, crimson, nebula, outerrim.');
    if (this.players.has(username.toLowerCase())) throw new GameError('username_taken', `Username "${username}" is already taken.`);
    const player = newPlayer(this.world, this.ctx.rng.fork(`player/${username}`), username, empire, this.nowIso());
    this.players.set(username.toLowerCase(), player);
    this.playersById.set(player.id, player);
    return player;
  }

  authenticate(payload: Record<string, unknown>): Player {
    const { username, password } = payload;
    if (typeof username !== 'string' || typeof password !== 'string') throw new GameError('invalid_payload', 'login requires username and password.');
    const player = this.players.get(username.toLowerCase());
    if (!player || player.password !== password) throw new GameError('auth_failed', 'Invalid username or password.');
    player.last_login_at = this.nowIso();
    return player;
  }

  /** One connection per account: binds the sink and returns the previous one (the caller closes it). */
  attach(player: Player, sink: Sink): Sink | undefined {
    const previous = player.sink;
    player.sink = sink;
    return previous !== sink ? previous : undefined;
  }

  detach(player: Player, sink: Sink): void {
    if (player.sink === sink) player.sink = undefined;
  }

  loginPayload(player: Player, message: string): Record<string, unknown> {
    const r = runQuery(this, player, 'get_status', {}, 'v1');
    const system = runQuery(this, player, 'get_system', {}, 'v1');
    return {
      message,
      player: r['player'],
      ship: r['ship'],
      modules: r['modules'],
      system: system['system'],
      poi: system['poi'],
      captains_log: [],
      pending_trades: [],
      release_info: { version: GAMESERVER_VERSION, release_date: RELEASE_DATE, notes: releaseNotes() },
      unread_chat: { faction: 0, local: 0, private: 0, system: 0 },
    };
  }

  // ---- commands -----------------------------------------------------------------------------------------------

  query(player: Player, command: string, payload: Record<string, unknown>, flavour: 'v1' | 'v2'): Record<string, unknown> {
    if (!this.isKnown(command, flavour)) throw unknownCommand(command);
    return runQuery(this, player, command, payload, flavour);
  }

  /** Queues a mutation for the next tick; returns the `ok {pending:true}` payload. */
  submit(player: Player, command: string, payload: Record<string, unknown>, origin: ActionOrigin): Record<string, unknown> {
    if (!this.isKnown(command)) throw unknownCommand(command);
    if (!IMPLEMENTED_MUTATIONS.has(command)) throw notImplemented(command);
    validateMutation(command, payload);
    const current = this.pending.find((a) => a.player === player);
    if (current?.inTransit) throw new GameError('already_traveling', `You are already in transit (${current.command}). Wait for arrival.`, { pending_command: current.command });
    if (current) throw new GameError('action_queued', `You already have a pending action (${current.command}). Wait for the current tick to resolve.`, { pending_command: current.command });
    this.pending.push({ player, command, payload, origin, flags: {} });
    const ok: Record<string, unknown> = { pending: true, command, message: `${command} queued; it executes on the next tick (${this.tick + 1}).` };
    if (command === 'travel') {
      const dest = this.world.pois.get(String(payload['target_poi']));
      const from = this.world.pois.get(player.poi_id);
      if (dest && from && dest.system_id === player.system_id) {
        ok['destination'] = dest.name;
        ok['arrival_tick'] = this.tick + 1 + (player.docked_at ? 1 : 0) + this.travelTicks(player, from.id, dest.id);
      }
    }
    return ok;
  }

  travelTicks(player: Player, fromId: string, toId: string): number {
    const a = this.world.pois.get(fromId);
    const b = this.world.pois.get(toId);
    if (!a || !b) return 1;
    return Math.max(1, Math.ceil(this.world.distance(a, b) / (player.ship.speed * 3)));
  }

  // ---- pushes -------------------------------------------------------------------------------------------------

  notify(player: Player, type: string, payload: Record<string, unknown>): void {
    player.sink?.push(type, payload);
  }

  nextChatId(): string {
    return `msg_${String(++this.chatSeq).padStart(6, '0')}`;
  }

  onlinePlayers(): Player[] {
    return [...this.players.values()].filter((p) => p.sink);
  }

  // ---- the tick -----------------------------------------------------------------------------------------------

  /** One game tick: every pending action advances in submission order. Exposed for tests. */
  advance(): void {
    this.tick++;
    const tick = this.tick;
    for (const action of [...this.pending]) {
      let step: StepResult;
      try {
        step = executeMutation(this, action, tick);
      } catch (e) {
        const err = e instanceof GameError ? e : new GameError('internal_error', 'simulator error');
        if (!(e instanceof GameError)) this.ctx.log(`mutation ${action.command} failed: ${(e as Error).stack ?? e}`);
        step = { done: { ok: false, code: err.code, message: err.message, ...(err.details !== undefined ? { details: err.details } : {}) } };
      }
      if ('wait' in step) continue;
      this.pending.splice(this.pending.indexOf(action), 1);
      this.deliver(action, step.done, tick);
    }
    this.onTick(tick);
  }

  private deliver(action: PendingAction, outcome: Outcome, tick: number): void {
    const { player, origin } = action;
    const sinkId = (player.sink as { id?: string } | undefined)?.id;
    const delay = takeFault(this.ctx, 'delay-results', [player.username, sinkId]);
    const send = (): void => {
      if (origin.done) return origin.done(outcome.ok ? { ...outcome, flags: action.flags } : outcome, tick);
      const [type, payload] = outcomeMessage(action.command, outcome, tick, action.flags);
      if (origin.sink && origin.sink === player.sink && origin.reply) origin.reply(type, payload);
      else this.notify(player, type, payload);
    };
    const ms = delay ? Number(delay['ms'] ?? 1000) : 0;
    if (ms > 0) {
      const t = setTimeout(() => {
        this.timers.delete(t);
        send();
      }, ms);
      this.timers.add(t);
    } else send();
  }

  cargoFree(player: Player): number {
    return player.ship.cargo_capacity - cargoUsed(player.ship);
  }
}

export function outcomeMessage(command: string, outcome: Outcome, tick: number, flags: Record<string, unknown>): ['action_result' | 'action_error', Record<string, unknown>] {
  if (outcome.ok) return ['action_result', { command, tick, result: outcome.result, ...flags }];
  return ['action_error', { command, tick, code: outcome.code, message: outcome.message, ...(outcome.details !== undefined ? { details: outcome.details } : {}) }];
}

function requireString(payload: Record<string, unknown>, key: string, command: string): void {
  if (typeof payload[key] !== 'string' || !(payload[key] as string).length) throw new GameError('invalid_payload', `${command} requires "${key}" (string).`);
}

function requireQuantity(payload: Record<string, unknown>, command: string): void {
  const q = payload['quantity'];
  if (typeof q !== 'number' || !Number.isInteger(q) || q < 1) throw new GameError('invalid_payload', `${command} requires "quantity" (integer, at least 1).`);
}

/** Schema checks done at submission; game rules are checked at execution time (on the tick), as the docs say. */
function validateMutation(command: string, payload: Record<string, unknown>): void {
  if (command === 'travel') requireString(payload, 'target_poi', command);
  if (command === 'attack') requireString(payload, 'target_id', command);
  if (command === 'jump') requireString(payload, 'target_system', command);
  if (command === 'sell' || command === 'buy') {
    requireString(payload, 'item_id', command);
    requireQuantity(payload, command);
  }
  if (command === 'refuel' && payload['quantity'] !== undefined) requireQuantity(payload, command);
}

/** A fault for any of the keys (username, session id) before a global one; consumes it once. */
export function takeFault(ctx: PlatformContext, fault: string, keys: (string | undefined)[]): Record<string, unknown> | undefined {
  for (const k of keys) {
    if (k === undefined) continue;
    const f = ctx.faults.peek('spacemolt', fault, k);
    if (f && f.target === k) return ctx.faults.take('spacemolt', fault, k);
  }
  const g = ctx.faults.peek('spacemolt', fault, undefined);
  return g ? ctx.faults.take('spacemolt', fault, undefined) : undefined;
}
