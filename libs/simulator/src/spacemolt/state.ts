import type { Rng } from '../core/rng';
import { PLAYER_STAT_KEYS } from './spec-data';
import { itemName, PoiDef, SystemDef, World } from './world';

/** Player and ship state, and their wire serialisations (field names per the v0.327.2 schemas). */

export interface Ship {
  id: string;
  class_id: string;
  name: string;
  created_at: string;
  hull: number;
  max_hull: number;
  shield: number;
  max_shield: number;
  armor: number;
  speed: number;
  fuel: number;
  max_fuel: number;
  cargo_capacity: number;
  /** Insertion-ordered so serialisation is deterministic. */
  cargo: Map<string, number>;
}

export interface Transit {
  type: 'travel' | 'jump';
  from_poi: string;
  to_poi: string;
  from_system: string;
  to_system: string;
  arrival_tick: number;
}

/** Something that receives a player's pushes: a WebSocket connection or an HTTP session's queue. */
export interface Sink {
  readonly kind: 'ws' | 'http';
  push(type: string, payload: Record<string, unknown>): void;
}

export interface Player {
  id: string;
  username: string;
  empire: string;
  password: string;
  credits: number;
  system_id: string;
  poi_id: string;
  docked_at?: string;
  home_base: string;
  created_at: string;
  last_login_at: string;
  ship: Ship;
  stats: Record<string, number>;
  transit?: Transit;
  rng: Rng;
  /** Current connection (one per account). */
  sink?: Sink;
}

export const cargoUsed = (ship: Ship): number => [...ship.cargo.values()].reduce((a, b) => a + b, 0);

export function newPlayer(world: World, rng: Rng, username: string, empire: string, nowIso: string): Player {
  const hex = (n: number) => Array.from({ length: n }, () => rng.int(0, 15).toString(16)).join('');
  const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-${(8 + rng.int(0, 3)).toString(16)}${hex(3)}-${hex(12)}`;
  const id = uuid();
  const stats: Record<string, number> = {};
  for (const k of PLAYER_STAT_KEYS) stats[k] = 0;
  return {
    id,
    username,
    empire,
    password: hex(64),
    credits: 1000,
    system_id: world.homeSystem,
    poi_id: world.homePoi,
    docked_at: world.homeBase,
    home_base: world.homeBase,
    created_at: nowIso,
    last_login_at: nowIso,
    stats,
    rng,
    ship: {
      id: uuid(),
      class_id: 'prospector',
      name: `${username}'s Prospector`,
      created_at: nowIso,
      hull: 100,
      max_hull: 100,
      shield: 50,
      max_shield: 50,
      armor: 5,
      speed: 2,
      fuel: 100,
      max_fuel: 100,
      cargo_capacity: 50,
      cargo: new Map(),
    },
  };
}

export function shipJson(p: Player): Record<string, unknown> {
  const s = p.ship;
  return {
    id: s.id,
    owner_id: p.id,
    class_id: s.class_id,
    name: s.name,
    created_at: s.created_at,
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
    ore_cargo_efficiency: 100,
    gas_cargo_efficiency: 100,
    ice_cargo_efficiency: 100,
    cpu_used: 4,
    cpu_capacity: 10,
    power_used: 6,
    power_capacity: 20,
    weapon_slots: 1,
    defense_slots: 1,
    utility_slots: 1,
    modules: ['mining_laser_1', 'pulse_laser_1'],
    cargo: cargoJson(s),
    ...(p.docked_at ? { docked_at_base: p.docked_at } : {}),
  };
}

export function cargoJson(s: Ship): { item_id: string; name: string; quantity: number; size: number }[] {
  return [...s.cargo.entries()].map(([item_id, quantity]) => ({ item_id, name: itemName(item_id), quantity, size: 1 }));
}

export function modulesJson(): Record<string, unknown>[] {
  return [
    {
      id: 'mining_laser_1',
      type_id: 'mining_laser_1',
      name: 'Mining Laser I',
      type: 'mining',
      slot: 'utility',
      size: 1,
      cpu_usage: 2,
      power_usage: 3,
      mining_power: 10,
      wear: 0,
      wear_status: 'pristine',
    },
    {
      id: 'pulse_laser_1',
      type_id: 'pulse_laser_1',
      name: 'Pulse Laser I',
      type: 'weapon',
      slot: 'weapon',
      size: 1,
      cpu_usage: 2,
      power_usage: 3,
      damage: 8,
      damage_type: 'energy',
      range: 1,
      wear: 0,
      wear_status: 'pristine',
    },
  ];
}

export function playerJson(p: Player, nowIso: string): Record<string, unknown> {
  return {
    id: p.id,
    username: p.username,
    empire: p.empire,
    credits: p.credits,
    created_at: p.created_at,
    last_login_at: p.last_login_at,
    last_active_at: nowIso,
    last_command_at: nowIso,
    last_chat_check: p.last_login_at,
    status_message: '',
    clan_tag: '',
    primary_color: '#4a90d9',
    secondary_color: '#f5a623',
    is_cloaked: false,
    current_ship_id: p.ship.id,
    current_system: p.system_id,
    current_poi: p.poi_id,
    home_base: p.home_base,
    ...(p.docked_at ? { docked_at_base: p.docked_at } : {}),
    skills: { mining: 0, trading: 0, piloting: 0 },
    skill_xp: { mining: p.stats['ore_mined'] ?? 0, trading: p.stats['exchange_items_sold'] ?? 0, piloting: 0 },
    experience: 0,
    stats: { ...p.stats },
  };
}

export function systemPoiJson(poi: PoiDef, online: number): Record<string, unknown> {
  return {
    id: poi.id,
    name: poi.name,
    type: poi.type,
    position: poi.position,
    has_base: !!poi.base_id,
    ...(poi.base_id ? { base_id: poi.base_id, base_name: poi.base_name, fuel_price: 1 } : {}),
    online,
  };
}

export function systemJson(sys: SystemDef, online: (poiId: string) => number): Record<string, unknown> {
  return {
    id: sys.id,
    name: sys.name,
    description: sys.description,
    empire: sys.empire,
    police_level: sys.police_level,
    security_status: sys.security_status,
    connections: sys.connections,
    pois: sys.pois.map((p) => systemPoiJson(p, online(p.id))),
  };
}

export function poiDetailJson(poi: PoiDef): Record<string, unknown> {
  return {
    id: poi.id,
    system_id: poi.system_id,
    type: poi.type,
    name: poi.name,
    description: poi.description,
    position: poi.position,
    ...(poi.base_id ? { base_id: poi.base_id } : {}),
    resources: poi.resources.map((r) => ({ resource_id: r.resource_id, richness: r.richness, remaining: r.remaining, max_remaining: r.max_remaining })),
  };
}

export function resourcesJson(poi: PoiDef): Record<string, unknown>[] {
  return poi.resources.map((r) => ({
    resource_id: r.resource_id,
    name: itemName(r.resource_id),
    richness: r.richness,
    remaining: r.remaining,
    remaining_display: r.remaining.toLocaleString('en-US'),
    max_remaining: r.max_remaining,
    depletion_percent: Math.round((1 - r.remaining / r.max_remaining) * 10000) / 100,
  }));
}
