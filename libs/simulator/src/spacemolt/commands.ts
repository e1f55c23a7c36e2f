import { GameError, notImplemented, Outcome } from './errors';
import type { Game, PendingAction } from './game';
import { GAMESERVER_VERSION, RELEASE_DATE, releaseNotes } from './version';
import { cargoJson, cargoUsed, modulesJson, Player, playerJson, poiDetailJson, resourcesJson, shipJson, systemJson, systemPoiJson } from './state';
import { itemName } from './world';

/** Query commands (answered at once) and the tick-time execution of mutations. */

export type StepResult = { done: Outcome } | { wait: true };

const ok = (result: Record<string, unknown>): StepResult => ({ done: { ok: true, result } });
const fail = (code: string, message: string): StepResult => ({ done: { ok: false, code, message } });

function onlineAt(game: Game, poiId: string): number {
  return game.onlinePlayers().filter((p) => p.poi_id === poiId && !p.transit).length;
}

function nearbyPlayers(game: Game, player: Player): Record<string, unknown>[] {
  return game
    .onlinePlayers()
    .filter((p) => p !== player && p.poi_id === player.poi_id && !p.transit)
    .map((p) => ({
      player_id: p.id,
      username: p.username,
      ship_class: p.ship.class_id,
      ship_name: p.ship.name,
      in_combat: false,
      status_message: '',
      clan_tag: '',
      primary_color: '#4a90d9',
      secondary_color: '#f5a623',
    }));
}

function transitInfo(game: Game, player: Player): Record<string, unknown> | undefined {
  const t = player.transit;
  if (!t) return undefined;
  const from = game.world.pois.get(t.from_poi);
  const to = game.world.pois.get(t.to_poi);
  const fromSys = game.world.systems.get(t.from_system);
  const toSys = game.world.systems.get(t.to_system);
  return {
    action: 'in_transit',
    in_transit: true,
    transit_type: t.type,
    ...(t.type === 'travel' ? { from_poi: from?.name ?? t.from_poi, to_poi: to?.name ?? t.to_poi } : {}),
    from_system: fromSys?.name ?? t.from_system,
    to_system: toSys?.name ?? t.to_system,
    ticks_remaining: Math.max(0, t.arrival_tick - game.tick),
    message: `In transit to ${t.type === 'jump' ? (toSys?.name ?? t.to_system) : (to?.name ?? t.to_poi)}; arrival at tick ${t.arrival_tick}.`,
  };
}

/** The canonical v2 game-state blob (V2GameState). */
export function v2State(game: Game, player: Player, message: string): Record<string, unknown> {
  const poi = game.world.pois.get(player.poi_id);
  const sys = game.world.systems.get(player.system_id);
  const t = player.transit;
  const s = player.ship;
  return {
    version: '2',
    message,
    player: {
      id: player.id,
      username: player.username,
      empire: player.empire,
      credits: player.credits,
      home_base: player.home_base,
      is_cloaked: false,
      status_message: '',
      clan_tag: '',
      primary_color: '#4a90d9',
      secondary_color: '#f5a623',
    },
    ship: {
      id: s.id,
      class_id: s.class_id,
      class_name: 'Prospector',
      hull: s.hull,
      max_hull: s.max_hull,
      shield: s.shield,
      max_shield: s.max_shield,
      shield_recharge: 2,
      armor: s.armor,
      speed: s.speed,
      fuel: s.fuel,
      max_fuel: s.max_fuel,
      cargo_used: cargoUsed(s),
      cargo_capacity: s.cargo_capacity,
    },
    location: {
      system_id: player.system_id,
      system_name: sys?.name,
      poi_id: player.poi_id,
      poi_name: poi?.name,
      poi_type: poi?.type,
      empire: sys?.empire,
      security_status: sys?.security_status,
      ...(player.docked_at ? { docked_at: player.docked_at } : {}),
      in_transit: !!t,
      ...(t && t.type === 'travel' ? { transit_type: 'travel', transit_arrival_tick: t.arrival_tick, transit_dest_poi_id: t.to_poi, transit_dest_poi_name: game.world.pois.get(t.to_poi)?.name } : {}),
      ...(t && t.type === 'jump'
        ? { transit_type: 'jump', transit_arrival_tick: t.arrival_tick, transit_dest_system_id: t.to_system, transit_dest_system_name: game.world.systems.get(t.to_system)?.name }
        : {}),
    },
    cargo: cargoJson(s),
    modules: modulesJson(),
    skills: { mining: { level: 0, xp: player.stats['ore_mined'] ?? 0, next_level_xp: 1000 } },
    queue: { has_pending: game.pending.some((a) => a.player === player) },
    missions: { active: [], max_missions: 5 },
  };
}

function renderStatus(game: Game, player: Player): string {
  const poi = game.world.pois.get(player.poi_id);
  const s = player.ship;
  const where = player.transit ? `in transit to ${game.world.pois.get(player.transit.to_poi)?.name}` : `${poi?.name ?? player.poi_id}${player.docked_at ? ' (docked)' : ''}`;
  return `${player.username} | ${player.credits} cr | fuel ${s.fuel}/${s.max_fuel} | cargo ${cargoUsed(s)}/${s.cargo_capacity} | hull ${s.hull}/${s.max_hull} | ${where} | tick ${game.tick}`;
}

export function versionInfo(): Record<string, unknown> {
  const notes = releaseNotes();
  return {
    version: GAMESERVER_VERSION,
    release_date: RELEASE_DATE,
    notes,
    versions: [{ version: GAMESERVER_VERSION, release_date: RELEASE_DATE, notes }],
    page: 1,
    per_page: 10,
    total: 1,
    total_pages: 1,
    has_more: false,
  };
}

export function runQuery(game: Game, player: Player, command: string, payload: Record<string, unknown>, flavour: 'v1' | 'v2'): Record<string, unknown> {
  const world = game.world;
  const nowIso = game.nowIso();
  const poi = world.pois.get(player.poi_id);
  const sys = world.systems.get(player.system_id);
  if (flavour === 'v2' && ['get_status', 'get_cargo', 'get_ship', 'get_skills', 'get_location', 'get_player', 'get_queue', 'get_state', 'get_active_missions'].includes(command))
    return v2State(game, player, renderStatus(game, player));
  switch (command) {
    case 'get_status':
      return { player: playerJson(player, nowIso), ship: shipJson(player), modules: modulesJson() };
    case 'get_ship':
      return { ship: shipJson(player), modules: modulesJson(), cargo_used: cargoUsed(player.ship), cargo_max: player.ship.cargo_capacity };
    case 'get_cargo':
      return { cargo: cargoJson(player.ship), used: cargoUsed(player.ship), capacity: player.ship.cargo_capacity, available: game.cargoFree(player) };
    case 'get_location':
    case 'get_player':
    case 'get_state':
    case 'get_queue':
    case 'get_active_missions':
      return v2State(game, player, renderStatus(game, player));
    case 'get_system': {
      const transit = transitInfo(game, player);
      if (transit) return transit;
      return { action: 'get_system', system: systemJson(sys!, (id) => onlineAt(game, id)), poi: systemPoiJson(poi!, onlineAt(game, poi!.id)), security_status: sys!.security_status };
    }
    case 'get_poi': {
      const transit = transitInfo(game, player);
      if (transit) return transit;
      const base = poi?.base_id ? world.bases.get(poi.base_id) : undefined;
      return {
        poi: poiDetailJson(poi!),
        resources: resourcesJson(poi!),
        ...(base ? { base: baseJson(base), fuel_price: base.fuel_price, services: base.services } : {}),
      };
    }
    case 'get_base': {
      if (!player.docked_at) throw new GameError('not_docked', 'You must be docked at a base.');
      const base = world.bases.get(player.docked_at)!;
      return {
        base: baseJson(base),
        condition: { condition: 'operational', condition_text: 'All services operational.', satisfaction_pct: 100, satisfied_count: base.services.length, total_service_infra: base.services.length },
        fuel_price: base.fuel_price,
        services: base.services,
      };
    }
    case 'get_nearby': {
      const nearby = nearbyPlayers(game, player);
      return { poi_id: player.poi_id, nearby, count: nearby.length, empire_npcs: [], empire_npc_count: 0, pirates: [], pirate_count: 0 };
    }
    case 'get_system_agents':
      return {
        system_id: player.system_id,
        agents: game
          .onlinePlayers()
          .filter((p) => p.system_id === player.system_id)
          .map((p) => ({ player_id: p.id, username: p.username, poi_id: p.poi_id })),
      };
    case 'get_map':
      return { systems: [...world.systems.values()].map((s) => ({ system_id: s.id, name: s.name })), total_count: world.systems.size };
    case 'get_version':
      return versionInfo();
    case 'get_skills':
      return { skills: { mining: { level: 0, xp: player.stats['ore_mined'] ?? 0 }, trading: { level: 0, xp: player.stats['exchange_items_sold'] ?? 0 } } };
    case 'get_commands':
      return { commands: game.commandList().map(({ name, description, category }) => ({ name, description, category })) };
    case 'help':
      return {
        description: 'SpaceMolt commands (simulator)',
        commands: game.commandList().map((c) => ({ ...c, requires_auth: !['register', 'login', 'session', 'get_version', 'help'].includes(c.name) })),
      };
    case 'view_market': {
      const baseId = player.docked_at ?? poi?.base_id;
      if (!baseId) throw new GameError('not_docked', 'There is no market here: dock at a base first.');
      const base = world.bases.get(baseId)!;
      const filter = typeof payload['item_id'] === 'string' ? (payload['item_id'] as string) : undefined;
      const items = (world.markets.get(baseId) ?? [])
        .filter((m) => !filter || m.item_id === filter)
        .filter((m) => typeof payload['category'] !== 'string' || m.category === payload['category'])
        .map((m) => ({
          item_id: m.item_id,
          item_name: m.item_name,
          category: m.category,
          buy_price: m.buy_price,
          buy_quantity: m.buy_quantity,
          sell_price: m.sell_price,
          sell_quantity: m.sell_quantity,
          best_buy: m.buy_price,
          best_buy_qty: m.buy_quantity,
          best_sell: m.sell_price,
          best_sell_qty: m.sell_quantity,
          spread: m.sell_price - m.buy_price,
          buy_orders: [{ price_each: m.buy_price, quantity: m.buy_quantity, source: 'station' }],
          sell_orders: [{ price_each: m.sell_price, quantity: m.sell_quantity, source: 'station' }],
        }));
      return { action: 'view_market', base: base.name, base_id: base.id, items, categories: [...new Set(items.map((i) => i.category))] };
    }
    case 'chat':
      return chat(game, player, payload);
    case 'claim':
      throw new GameError('already_claimed', 'This player has already been linked to a website account.');
    case 'get_notifications':
      // WebSocket players get pushes directly: nothing is ever queued for them.
      return { notifications: [], count: 0, remaining: 0, current_tick: game.tick, timestamp: Math.floor(game.ctx.now() / 1000) };
    default:
      throw notImplemented(command);
  }
}

function baseJson(base: { id: string; poi_id: string; name: string; description: string; empire: string; services: string[] }): Record<string, unknown> {
  return {
    id: base.id,
    poi_id: base.poi_id,
    name: base.name,
    description: base.description,
    empire: base.empire,
    type: 'station',
    fuel: 50000,
    max_fuel: 100000,
    defense_level: 80,
    has_drones: true,
    public_access: true,
    facilities: base.services,
  };
}

function chat(game: Game, player: Player, payload: Record<string, unknown>): Record<string, unknown> {
  const channel = payload['channel'];
  const content = payload['content'];
  if (typeof channel !== 'string' || !['system', 'local', 'faction', 'private'].includes(channel))
    throw new GameError('invalid_payload', 'chat requires "channel": system, local, faction or private.');
  if (typeof content !== 'string' || !content.trim()) throw new GameError('invalid_payload', 'chat requires non-empty "content".');
  if (content.length > 500) throw new GameError('invalid_payload', 'Chat messages are limited to 500 characters.');
  if (channel === 'faction') throw new GameError('not_in_faction', 'You are not in a faction.');
  let recipients: Player[];
  const scope: Record<string, unknown> = {};
  if (channel === 'private') {
    const targetId = payload['target_id'];
    const target = typeof targetId === 'string' ? (game.playersById.get(targetId) ?? game.players.get(targetId.toLowerCase())) : undefined;
    if (!target) throw new GameError('invalid_target', 'Private messages need "target_id" of an existing player.');
    recipients = [player, target];
    scope['target_id'] = [player.id, target.id].sort().join(':');
    scope['target_name'] = target.username;
  } else if (channel === 'system') {
    recipients = game.onlinePlayers().filter((p) => p.system_id === player.system_id);
    scope['system_id'] = player.system_id;
    scope['target_id'] = player.system_id;
  } else {
    recipients = game.onlinePlayers().filter((p) => p.poi_id === player.poi_id);
    scope['poi_id'] = player.poi_id;
    scope['system_id'] = player.system_id;
    scope['target_id'] = player.poi_id;
  }
  player.stats['chat_messages_sent'] = (player.stats['chat_messages_sent'] ?? 0) + 1;
  const msg = { id: game.nextChatId(), channel, sender_id: player.id, sender: player.username, content, timestamp: game.nowIso(), ...scope };
  for (const r of new Set(recipients)) game.notify(r, 'chat_message', msg);
  return { action: 'chat', channel };
}

// ---- mutations, executed on the tick ------------------------------------------------------------------------

export function executeMutation(game: Game, action: PendingAction, tick: number): StepResult {
  const { player, command, payload } = action;
  const world = game.world;
  const ship = player.ship;
  const poi = world.pois.get(player.poi_id)!;

  // Multi-tick travel: resolves on arrival.
  if (action.inTransit && player.transit) {
    if (tick < player.transit.arrival_tick) return { wait: true };
    const dest = world.pois.get(player.transit.to_poi)!;
    const jumped = player.transit.type === 'jump';
    player.poi_id = dest.id;
    player.system_id = dest.system_id;
    player.transit = undefined;
    if (jumped) {
      const sys = world.systems.get(dest.system_id)!;
      player.stats['jumps_completed'] = (player.stats['jumps_completed'] ?? 0) + 1;
      return ok({ action: 'jumped', system: sys.name, system_id: sys.id, poi: dest.name, poi_id: dest.id, message: `Jumped to ${sys.name}.` });
    }
    const online = nearbyPlayers(game, player);
    return ok({ action: 'arrived', poi: dest.name, poi_id: dest.id, online_players: online, online_players_count: online.length, online_players_truncated: false });
  }

  // Auto-undock / auto-dock costs one extra tick, flagged on the result.
  if ((command === 'mine' || command === 'travel' || command === 'jump' || command === 'attack') && player.docked_at) {
    player.docked_at = undefined;
    action.flags['auto_undocked'] = true;
    return { wait: true };
  }
  if ((command === 'sell' || command === 'buy') && !player.docked_at && poi.base_id) {
    player.docked_at = poi.base_id;
    player.stats['times_docked'] = (player.stats['times_docked'] ?? 0) + 1;
    action.flags['auto_docked'] = true;
    return { wait: true };
  }

  switch (command) {
    case 'undock':
      if (!player.docked_at) return fail('not_docked', 'You are not docked.');
      player.docked_at = undefined;
      return ok({ action: 'undock', message: `Undocked from ${poi.base_name ?? poi.name}.` });
    case 'dock': {
      if (player.docked_at) return fail('already_docked', 'You are already docked.');
      if (!poi.base_id) return fail('no_base', `There is no base to dock at ${poi.name}.`);
      player.docked_at = poi.base_id;
      player.stats['times_docked'] = (player.stats['times_docked'] ?? 0) + 1;
      return ok({ action: 'dock', base_id: poi.base_id, base_name: poi.base_name, message: `Docked at ${poi.base_name}.` });
    }
    case 'travel': {
      const dest = world.pois.get(String(payload['target_poi']));
      if (!dest || dest.system_id !== player.system_id) return fail('invalid_poi', `Unknown POI "${String(payload['target_poi'])}" in this system. Use get_system to list POIs.`);
      if (dest.id === player.poi_id) return fail('already_at_poi', `You are already at ${dest.name}.`);
      const fuelCost = Math.max(1, Math.ceil(world.distance(poi, dest) / 3));
      if (ship.fuel < fuelCost) return fail('no_fuel', `Not enough fuel: travel needs ${fuelCost}, you have ${ship.fuel}.`);
      ship.fuel -= fuelCost;
      player.stats['distance_traveled'] = (player.stats['distance_traveled'] ?? 0) + Math.round(world.distance(poi, dest));
      player.transit = {
        type: 'travel',
        from_poi: poi.id,
        to_poi: dest.id,
        from_system: player.system_id,
        to_system: player.system_id,
        arrival_tick: tick + game.travelTicks(player, poi.id, dest.id),
      };
      action.inTransit = true;
      return { wait: true };
    }
    case 'jump': {
      const sys = world.systems.get(player.system_id)!;
      const target = String(payload['target_system']);
      const link = sys.connections.find((c) => c.system_id === target || c.name.toLowerCase() === target.toLowerCase());
      if (!link) return fail('invalid_system', `No jump connection from ${sys.name} to "${target}". Use get_system to list connections.`);
      const fuelCost = link.distance * 2;
      if (ship.fuel < fuelCost) return fail('no_fuel', `Not enough fuel: the jump needs ${fuelCost}, you have ${ship.fuel}.`);
      const arrival = world.systems.get(link.system_id)!.pois[0]!;
      ship.fuel -= fuelCost;
      player.transit = {
        type: 'jump',
        from_poi: poi.id,
        to_poi: arrival.id,
        from_system: sys.id,
        to_system: link.system_id,
        arrival_tick: tick + Math.max(1, Math.ceil(link.distance / player.ship.speed)),
      };
      action.inTransit = true;
      return { wait: true };
    }
    case 'mine': {
      if (!poi.resources.length) return fail('not_at_belt', 'You are not at a mineable location.');
      const free = game.cargoFree(player);
      if (free <= 0) return fail('no_cargo_space', 'Cargo hold full.');
      const live = poi.resources.filter((r) => r.remaining > 0);
      if (!live.length) return fail('depleted', 'This location is depleted.');
      let roll = player.rng.next() * live.reduce((a, r) => a + r.richness, 0);
      let node = live[0]!;
      for (const r of live) {
        roll -= r.richness;
        if (roll < 0) {
          node = r;
          break;
        }
      }
      const quantity = Math.min(free, node.remaining, player.rng.int(3, 6));
      node.remaining -= quantity;
      ship.cargo.set(node.resource_id, (ship.cargo.get(node.resource_id) ?? 0) + quantity);
      player.stats['ore_mined'] = (player.stats['ore_mined'] ?? 0) + quantity;
      game.notify(player, 'mining_yield', {
        resource_id: node.resource_id,
        resource_name: itemName(node.resource_id),
        quantity,
        remaining: node.remaining,
        remaining_display: node.remaining.toLocaleString('en-US'),
        max_remaining: node.max_remaining,
        depletion_percent: Math.round((1 - node.remaining / node.max_remaining) * 10000) / 100,
      });
      return ok({
        action: 'mine',
        resource_id: node.resource_id,
        resource_name: itemName(node.resource_id),
        quantity,
        remaining: node.remaining,
        cargo_used: cargoUsed(ship),
        cargo_capacity: ship.cargo_capacity,
        message: `Mined ${quantity}x ${itemName(node.resource_id)}.`,
      });
    }
    case 'sell': {
      if (!player.docked_at) return fail('not_docked', 'You must be docked at a base to sell.');
      const m = world.marketItem(player.docked_at, String(payload['item_id']));
      if (!m) return fail('item_not_tradeable', `This station does not trade "${String(payload['item_id'])}".`);
      const have = ship.cargo.get(m.item_id) ?? 0;
      if (have <= 0) return fail('item_not_in_cargo', `You have no ${m.item_name} in cargo.`);
      const requested = payload['quantity'] as number;
      const sold = Math.min(have, requested);
      const total = sold * m.buy_price;
      if (sold === have) ship.cargo.delete(m.item_id);
      else ship.cargo.set(m.item_id, have - sold);
      player.credits += total;
      player.stats['credits_earned'] = (player.stats['credits_earned'] ?? 0) + total;
      player.stats['exchange_credits_earned'] = (player.stats['exchange_credits_earned'] ?? 0) + total;
      player.stats['exchange_items_sold'] = (player.stats['exchange_items_sold'] ?? 0) + sold;
      return ok({
        action: 'sell',
        item_id: m.item_id,
        item: m.item_name,
        quantity_sold: sold,
        fills: [{ price_each: m.buy_price, quantity: sold, subtotal: total, source: 'station' }],
        total_earned: total,
        level_up: false,
        ...(requested > sold ? { unsold: requested - sold } : {}),
        message: `Sold ${sold}x ${m.item_name} for ${total} credits.`,
      });
    }
    case 'buy': {
      if (!player.docked_at) return fail('not_docked', 'You must be docked at a base to buy.');
      const m = world.marketItem(player.docked_at, String(payload['item_id']));
      if (!m) return fail('item_not_tradeable', `This station does not sell "${String(payload['item_id'])}".`);
      const quantity = payload['quantity'] as number;
      const cost = quantity * m.sell_price;
      if (cost > player.credits) return fail('no_credits', `Insufficient credits: ${cost} needed, you have ${player.credits}.`);
      if (quantity > game.cargoFree(player)) return fail('no_cargo_space', 'Not enough cargo space.');
      player.credits -= cost;
      ship.cargo.set(m.item_id, (ship.cargo.get(m.item_id) ?? 0) + quantity);
      player.stats['credits_spent'] = (player.stats['credits_spent'] ?? 0) + cost;
      player.stats['exchange_items_bought'] = (player.stats['exchange_items_bought'] ?? 0) + quantity;
      return ok({
        action: 'buy',
        item_id: m.item_id,
        item: m.item_name,
        quantity,
        total_cost: cost,
        fills: [{ price_each: m.sell_price, quantity, subtotal: cost, source: 'station' }],
        level_up: false,
        delivered_to_cargo: quantity,
      });
    }
    case 'refuel': {
      const dockedBase = player.docked_at ? world.bases.get(player.docked_at) : undefined;
      if (dockedBase) {
        const need = ship.max_fuel - ship.fuel;
        const units = Math.min(need, Math.floor(player.credits / dockedBase.fuel_price));
        if (need > 0 && units <= 0) return fail('no_credits', 'Insufficient credits to refuel.');
        const cost = units * dockedBase.fuel_price;
        ship.fuel += units;
        player.credits -= cost;
        player.stats['credits_spent'] = (player.stats['credits_spent'] ?? 0) + cost;
        return ok({
          action: 'refuel',
          source: 'station',
          fuel: ship.fuel,
          fuel_now: ship.fuel,
          fuel_max: ship.max_fuel,
          cost,
          message: units > 0 ? `Refueled ${units} units for ${cost} credits.` : 'Fuel tank already full.',
        });
      }
      const cells = ship.cargo.get('fuel_cell') ?? 0;
      if (cells <= 0) return fail('no_fuel_source', 'Not docked at a station and no fuel cells in cargo.');
      const used = Math.min(cells, typeof payload['quantity'] === 'number' ? (payload['quantity'] as number) : 1);
      ship.fuel = Math.min(ship.max_fuel, ship.fuel + used * 20);
      if (used === cells) ship.cargo.delete('fuel_cell');
      else ship.cargo.set('fuel_cell', cells - used);
      return ok({ action: 'refuel', source: 'fuel_cell', item_id: 'fuel_cell', item_name: 'Fuel Cell', cells_used: used, fuel: ship.fuel, fuel_now: ship.fuel, fuel_max: ship.max_fuel });
    }
    case 'attack': {
      const tid = String(payload['target_id']);
      const target = game.playersById.get(tid) ?? game.players.get(tid.toLowerCase());
      if (!target || target === player || !target.sink || target.poi_id !== player.poi_id || target.transit || target.docked_at) return fail('invalid_target', 'Target not found or not at your POI.');
      const damage = player.rng.int(6, 12);
      const shieldHit = Math.min(target.ship.shield, damage);
      const hullHit = damage - shieldHit;
      target.ship.shield -= shieldHit;
      target.ship.hull = Math.max(0, target.ship.hull - hullHit);
      const destroyed = target.ship.hull === 0;
      player.stats['damage_dealt'] = (player.stats['damage_dealt'] ?? 0) + damage;
      target.stats['damage_taken'] = (target.stats['damage_taken'] ?? 0) + damage;
      const update = { tick, attacker: player.username, target: target.username, damage, damage_type: 'energy', shield_hit: shieldHit, hull_hit: hullHit, destroyed };
      game.notify(player, 'combat_update', update);
      game.notify(target, 'combat_update', update);
      if (destroyed) {
        target.ship.hull = target.ship.max_hull;
        target.ship.shield = target.ship.max_shield;
        target.ship.cargo.clear();
        target.poi_id = game.world.homePoi;
        target.system_id = game.world.homeSystem;
        target.docked_at = target.home_base;
        target.stats['deaths_by_player'] = (target.stats['deaths_by_player'] ?? 0) + 1;
        player.stats['ships_destroyed'] = (player.stats['ships_destroyed'] ?? 0) + 1;
        game.notify(target, 'player_died', {
          killer_id: player.id,
          killer_name: player.username,
          respawn_base: target.home_base,
          cause: 'combat',
          clone_cost: 0,
          insurance_payout: 0,
          ship_lost: target.ship.class_id,
        });
      }
      return ok({ action: 'attack', target_id: target.id, target_name: target.username, damage, shield_hit: shieldHit, hull_hit: hullHit, destroyed });
    }
    default:
      throw notImplemented(command);
  }
}
