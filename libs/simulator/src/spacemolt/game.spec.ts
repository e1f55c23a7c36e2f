import { FaultRegistry } from '../core/faults';
import { createRng } from '../core/rng';
import type { PlatformContext } from '../core/types';
import { GameError, Outcome } from './errors';
import { Game } from './game';
import { parseClientFrame, wsFrame } from './messages';
import type { Player, Sink } from './state';

function ctx(seed = 'unit'): PlatformContext {
  return { rng: createRng(seed), seed, faults: new FaultRegistry(), baseUrl: () => 'http://x/spacemolt', now: () => Date.UTC(2026, 0, 1), log: () => undefined };
}

class Recorder implements Sink {
  readonly kind = 'ws' as const;
  readonly pushes: [string, Record<string, unknown>][] = [];
  push(type: string, payload: Record<string, unknown>): void {
    this.pushes.push([type, payload]);
  }
}

function setup(seed = 'unit'): { game: Game; player: Player; sink: Recorder } {
  const game = new Game(ctx(seed), { tickMs: 1000 });
  const player = game.register({ username: 'Unit Miner', empire: 'solarian', registration_code: 'c' });
  const sink = new Recorder();
  game.attach(player, sink);
  return { game, player, sink };
}

/** Submits a mutation and ticks until its outcome arrives. */
function act(game: Game, player: Player, command: string, payload: Record<string, unknown> = {}): { outcome: Outcome; ticks: number } {
  let got: Outcome | undefined;
  game.submit(player, command, payload, { done: (o) => (got = o) });
  let ticks = 0;
  while (!got && ticks < 50) {
    game.advance();
    ticks++;
  }
  return { outcome: got!, ticks };
}

describe('wire helpers', () => {
  it('wsFrame orders keys type, payload, request_id and omits an absent request_id', () => {
    expect(wsFrame('ok', { a: 1 }, 'r')).toBe('{"type":"ok","payload":{"a":1},"request_id":"r"}');
    expect(wsFrame('ok', { a: 1 })).toBe('{"type":"ok","payload":{"a":1}}');
  });

  it('parseClientFrame validates JSON, type, payload and request_id length', () => {
    expect(parseClientFrame('{"type":"mine","request_id":"x"}', false)).toEqual({ type: 'mine', payload: {}, requestId: 'x' });
    expect(parseClientFrame('nope', false)).toEqual({ error: { code: 'invalid_payload', message: expect.stringContaining('Malformed JSON') } });
    expect(parseClientFrame('{"type":"mine","payload":[1]}', false)).toEqual({ error: { code: 'invalid_payload', message: expect.any(String) }, requestId: undefined });
    expect(parseClientFrame(JSON.stringify({ type: 'mine', request_id: 'é'.repeat(128) }), false)).toEqual(expect.objectContaining({ type: 'mine' }));
    expect(parseClientFrame(JSON.stringify({ type: 'mine', request_id: 'é'.repeat(129) }), false)).toEqual({ error: { code: 'invalid_request_id', message: expect.any(String) } });
    expect(parseClientFrame(JSON.stringify({ type: 'mine', request_id: 5 }), false)).toEqual({ error: { code: 'invalid_request_id', message: expect.any(String) } });
    expect(parseClientFrame(Buffer.from('{}'), true)).toEqual({ error: { code: 'invalid_payload', message: expect.any(String) } });
  });
});

describe('Game engine', () => {
  it('registration rules: username length/charset, empire, unique names, registration code', () => {
    const { game } = setup();
    const reg = (p: Record<string, unknown>) => () => game.register({ username: 'Valid Name', empire: 'solarian', registration_code: 'c', ...p });
    expect(reg({ username: 'ab' })).toThrow(expect.objectContaining({ code: 'invalid_username' }));
    expect(reg({ username: 'x'.repeat(25) })).toThrow(expect.objectContaining({ code: 'invalid_username' }));
    expect(reg({ username: 'bad<name>' })).toThrow(expect.objectContaining({ code: 'invalid_username' }));
    expect(reg({ empire: 'pirates' })).toThrow(expect.objectContaining({ code: 'invalid_empire' }));
    expect(reg({ registration_code: '' })).toThrow(expect.objectContaining({ code: 'registration_code_required' }));
    expect(reg({ username: 'unit miner' })).toThrow(expect.objectContaining({ code: 'username_taken' }));
    expect(reg({ username: 'Ünïcode 🚀' })()).toEqual(expect.objectContaining({ username: 'Ünïcode 🚀' }));
  });

  it('one pending mutation per player: action_queued', () => {
    const { game, player } = setup();
    game.submit(player, 'undock', {}, {});
    expect(() => game.submit(player, 'undock', {}, {})).toThrow(expect.objectContaining({ code: 'action_queued' }));
  });

  it('the mining loop keeps state consistent: fuel, cargo, credits, location', () => {
    const { game, player, sink } = setup();
    expect(act(game, player, 'undock').outcome).toEqual({ ok: true, result: expect.objectContaining({ action: 'undock' }), flags: {} });
    const travel = act(game, player, 'travel', { target_poi: 'main_belt' });
    expect(travel.outcome.ok).toBe(true);
    expect(travel.ticks).toBeGreaterThan(1);
    expect(player.poi_id).toBe('main_belt');
    expect(player.ship.fuel).toBeLessThan(100);
    let mined = 0;
    for (;;) {
      const { outcome } = act(game, player, 'mine');
      if (!outcome.ok) {
        expect(outcome.code).toBe('no_cargo_space');
        break;
      }
      mined += outcome.result['quantity'] as number;
    }
    expect(mined).toBe(50);
    expect(sink.pushes.filter(([t]) => t === 'mining_yield').reduce((n, [, p]) => n + (p['quantity'] as number), 0)).toBe(50);
    expect(act(game, player, 'sell', { item_id: 'iron_ore', quantity: 1 }).outcome).toEqual(expect.objectContaining({ ok: false, code: 'not_docked' }));
    act(game, player, 'travel', { target_poi: 'earth' });
    const dock = act(game, player, 'dock');
    expect(dock.outcome.ok).toBe(true);
    const before = player.credits;
    let earned = 0;
    for (const [item, qty] of [...player.ship.cargo]) {
      const { outcome } = act(game, player, 'sell', { item_id: item, quantity: qty });
      if (!outcome.ok) throw new Error(outcome.message);
      earned += outcome.result['total_earned'] as number;
    }
    expect(player.ship.cargo.size).toBe(0);
    expect(player.credits).toBe(before + earned);
    const fuelBefore = player.ship.fuel;
    const refuel = act(game, player, 'refuel').outcome;
    expect(refuel).toEqual(expect.objectContaining({ ok: true, result: expect.objectContaining({ cost: 100 - fuelBefore, fuel: 100 }) }));
    expect(player.credits).toBe(before + earned - (100 - fuelBefore));
  });

  it('validation happens at execution: unknown POI → action outcome invalid_poi; missing params → invalid_payload at once', () => {
    const { game, player } = setup();
    expect(act(game, player, 'travel', { target_poi: 'narnia' }).outcome).toEqual(expect.objectContaining({ ok: false, code: 'invalid_poi' }));
    expect(() => game.submit(player, 'travel', {}, {})).toThrow(GameError);
    expect(() => game.submit(player, 'sell', { item_id: 'iron_ore', quantity: 0 }, {})).toThrow(expect.objectContaining({ code: 'invalid_payload' }));
    expect(() => game.submit(player, 'craft', {}, {})).toThrow(expect.objectContaining({ code: 'not_implemented' }));
    expect(() => game.query(player, 'hyperjump', {}, 'v1')).toThrow(expect.objectContaining({ code: 'unknown_command' }));
  });

  it('jump: in transit for several ticks (get_system shows the transit), then jumped into the connected system', () => {
    const { game, player } = setup();
    let got: Outcome | undefined;
    game.submit(player, 'jump', { target_system: 'alpha_centauri' }, { done: (o) => (got = o) });
    game.advance(); // auto-undock
    game.advance(); // departs
    expect(game.query(player, 'get_system', {}, 'v1')).toEqual(expect.objectContaining({ in_transit: true, transit_type: 'jump', from_system: 'Sol', to_system: 'Alpha Centauri' }));
    expect(() => game.submit(player, 'mine', {}, {})).toThrow(expect.objectContaining({ code: 'already_traveling' }));
    for (let i = 0; i < 10 && !got; i++) game.advance();
    expect(got).toEqual({ ok: true, result: expect.objectContaining({ action: 'jumped', system_id: 'alpha_centauri', poi_id: 'alpha_centauri_a' }), flags: { auto_undocked: true } });
    expect(player.system_id).toBe('alpha_centauri');
    expect(player.ship.fuel).toBe(92);
    expect(act(game, player, 'jump', { target_system: 'nowhere' }).outcome).toEqual(expect.objectContaining({ ok: false, code: 'invalid_system' }));
    expect(act(game, player, 'travel', { target_poi: 'main_belt' }).outcome).toEqual(expect.objectContaining({ ok: false, code: 'invalid_poi' }));
    expect(act(game, player, 'travel', { target_poi: 'proxima_belt' }).outcome.ok).toBe(true);
  });

  it('auto-dock for sell/buy at a base POI; buy charges the seeded price; fuel cells refuel in space', () => {
    const { game, player } = setup();
    act(game, player, 'undock');
    const price = game.world.marketItem('earth_station', 'fuel_cell')!.sell_price;
    const buy = act(game, player, 'buy', { item_id: 'fuel_cell', quantity: 2 });
    expect(buy.outcome).toEqual({ ok: true, result: expect.objectContaining({ action: 'buy', item_id: 'fuel_cell', quantity: 2, total_cost: 2 * price }), flags: { auto_docked: true } });
    expect(buy.ticks).toBe(2);
    expect(player.credits).toBe(1000 - 2 * price);
    expect(act(game, player, 'buy', { item_id: 'repair_kit', quantity: 1000 }).outcome).toEqual(expect.objectContaining({ ok: false, code: 'no_credits' }));
    act(game, player, 'travel', { target_poi: 'kuiper_field' });
    const fuel = player.ship.fuel;
    expect(act(game, player, 'refuel', { quantity: 1 }).outcome).toEqual(
      expect.objectContaining({ ok: true, result: expect.objectContaining({ source: 'fuel_cell', cells_used: 1, fuel: Math.min(100, fuel + 20) }) }),
    );
    expect(player.ship.cargo.get('fuel_cell')).toBe(1);
  });

  it('attack: combat_update to both sides; a destroyed ship respawns docked at home with an empty hold (player_died)', () => {
    const { game, player: a, sink: sa } = setup();
    const b = game.register({ username: 'Target', empire: 'crimson', registration_code: 'c' });
    const sb = new Recorder();
    game.attach(b, sb);
    act(game, b, 'undock');
    b.ship.cargo.set('iron_ore', 5);
    expect(act(game, a, 'attack', { target_id: 'nobody' }).outcome).toEqual(expect.objectContaining({ ok: false, code: 'invalid_target' }));
    let destroyed = false;
    for (let i = 0; i < 40 && !destroyed; i++) {
      const { outcome } = act(game, a, 'attack', { target_id: b.id });
      if (!outcome.ok) throw new Error(outcome.message);
      destroyed = outcome.result['destroyed'] as boolean;
    }
    expect(destroyed).toBe(true);
    const updates = sb.pushes.filter(([t]) => t === 'combat_update');
    expect(updates.length).toBe(sa.pushes.filter(([t]) => t === 'combat_update').length);
    expect(updates.reduce((n, [, p]) => n + (p['damage'] as number), 0)).toBeGreaterThanOrEqual(150);
    expect(sb.pushes.find(([t]) => t === 'player_died')![1]).toEqual(expect.objectContaining({ killer_id: a.id, killer_name: a.username, respawn_base: 'earth_station' }));
    expect(b.docked_at).toBe('earth_station');
    expect(b.ship.cargo.size).toBe(0);
    expect(b.ship.hull).toBe(b.ship.max_hull);
  });

  it('chat scopes: local (same POI), system, private (both parties); faction needs a faction', () => {
    const { game, player: a, sink: sa } = setup();
    const b = game.register({ username: 'Far Away', empire: 'nebula', registration_code: 'c' });
    const sb = new Recorder();
    game.attach(b, sb);
    act(game, b, 'travel', { target_poi: 'main_belt' });
    game.query(a, 'chat', { channel: 'local', content: 'local hi' }, 'v1');
    game.query(a, 'chat', { channel: 'system', content: 'system hi' }, 'v1');
    game.query(a, 'chat', { channel: 'private', content: 'psst', target_id: b.id }, 'v1');
    const texts = (r: Recorder) => r.pushes.filter(([t]) => t === 'chat_message').map(([, p]) => p['content']);
    expect(texts(sa)).toEqual(['local hi', 'system hi', 'psst']);
    expect(texts(sb)).toEqual(['system hi', 'psst']);
    expect(sb.pushes.find(([, p]) => p['content'] === 'psst')![1]).toEqual(expect.objectContaining({ channel: 'private', target_name: 'Far Away' }));
    expect(() => game.query(a, 'chat', { channel: 'faction', content: 'x' }, 'v1')).toThrow(expect.objectContaining({ code: 'not_in_faction' }));
    expect(() => game.query(a, 'chat', { channel: 'local', content: 'x'.repeat(501) }, 'v1')).toThrow(expect.objectContaining({ code: 'invalid_payload' }));
  });

  it('same seed → same world, prices, tick and yields; different seed → different', () => {
    const run = (seed: string) => {
      const { game, player } = setup(seed);
      act(game, player, 'travel', { target_poi: 'main_belt' });
      const yields = Array.from({ length: 5 }, () => act(game, player, 'mine').outcome);
      return { tick: game.tick, market: game.world.markets.get('earth_station'), yields, password: player.password };
    };
    expect(run('s1')).toEqual(run('s1'));
    expect(run('s1')).not.toEqual(run('s2'));
  });
});
