import type { Rng } from '../core/rng';

/** The simulated galaxy: one empire home system with a station, belts, and a neighbour. Static layout, seeded prices. */

export interface ResourceNode {
  resource_id: string;
  richness: number;
  remaining: number;
  max_remaining: number;
}

export interface PoiDef {
  id: string;
  system_id: string;
  type: string;
  name: string;
  description: string;
  position: { x: number; y: number };
  base_id?: string;
  base_name?: string;
  resources: ResourceNode[];
}

export interface SystemDef {
  id: string;
  name: string;
  description: string;
  empire: string;
  police_level: number;
  security_status: string;
  position: { x: number; y: number };
  connections: { system_id: string; name: string; distance: number }[];
  pois: PoiDef[];
}

export interface BaseDef {
  id: string;
  poi_id: string;
  name: string;
  description: string;
  empire: string;
  services: string[];
  fuel_price: number;
}

export interface MarketItem {
  item_id: string;
  item_name: string;
  category: string;
  /** What the station pays per unit when a player sells. */
  buy_price: number;
  /** What a player pays per unit when buying. */
  sell_price: number;
  buy_quantity: number;
  sell_quantity: number;
}

export const ITEM_NAMES: Record<string, string> = {
  iron_ore: 'Iron Ore',
  copper_ore: 'Copper Ore',
  nickel_ore: 'Nickel Ore',
  silicon_ore: 'Silicon Ore',
  titanium_ore: 'Titanium Ore',
  fuel_cell: 'Fuel Cell',
  repair_kit: 'Repair Kit',
};

export const itemName = (id: string): string => ITEM_NAMES[id] ?? id;

export class World {
  readonly systems = new Map<string, SystemDef>();
  readonly pois = new Map<string, PoiDef>();
  readonly bases = new Map<string, BaseDef>();
  readonly markets = new Map<string, MarketItem[]>();
  readonly homeSystem = 'sol';
  readonly homePoi = 'earth';
  readonly homeBase = 'earth_station';

  constructor(rng: Rng) {
    const node = (resource_id: string, richness: number, remaining: number): ResourceNode => ({ resource_id, richness, remaining, max_remaining: remaining });
    const sol: SystemDef = {
      id: 'sol',
      name: 'Sol',
      description: 'The Solarian capital system.',
      empire: 'solarian',
      police_level: 5,
      security_status: 'high',
      position: { x: 0, y: 0 },
      connections: [{ system_id: 'alpha_centauri', name: 'Alpha Centauri', distance: 4 }],
      pois: [
        { id: 'sol_sun', system_id: 'sol', type: 'sun', name: 'Sol', description: 'A yellow dwarf star.', position: { x: 0, y: 0 }, resources: [] },
        {
          id: 'earth',
          system_id: 'sol',
          type: 'planet',
          name: 'Earth',
          description: 'Humanity’s cradle, ringed by the Earth Orbital Station.',
          position: { x: 3, y: 1 },
          base_id: 'earth_station',
          base_name: 'Earth Orbital Station',
          resources: [],
        },
        {
          id: 'main_belt',
          system_id: 'sol',
          type: 'asteroid_belt',
          name: 'Main Belt',
          description: 'A dense asteroid belt rich in common ores.',
          position: { x: 7, y: 4 },
          resources: [node('iron_ore', rng.int(55, 75), 250000), node('copper_ore', rng.int(20, 35), 120000), node('nickel_ore', rng.int(8, 15), 60000)],
        },
        {
          id: 'kuiper_field',
          system_id: 'sol',
          type: 'asteroid_belt',
          name: 'Kuiper Field',
          description: 'Sparse, distant rocks with rarer ores.',
          position: { x: 14, y: -6 },
          resources: [node('silicon_ore', rng.int(30, 45), 80000), node('titanium_ore', rng.int(10, 20), 40000)],
        },
      ],
    };
    const alpha: SystemDef = {
      id: 'alpha_centauri',
      name: 'Alpha Centauri',
      description: 'A frontier binary system.',
      empire: 'solarian',
      police_level: 2,
      security_status: 'medium',
      position: { x: 4, y: 3 },
      connections: [{ system_id: 'sol', name: 'Sol', distance: 4 }],
      pois: [
        { id: 'alpha_centauri_a', system_id: 'alpha_centauri', type: 'sun', name: 'Alpha Centauri A', description: 'The brighter star.', position: { x: 0, y: 0 }, resources: [] },
        {
          id: 'proxima_belt',
          system_id: 'alpha_centauri',
          type: 'asteroid_belt',
          name: 'Proxima Belt',
          description: 'A frontier belt of titanium-rich rock.',
          position: { x: 5, y: 2 },
          resources: [node('titanium_ore', rng.int(25, 40), 90000), node('iron_ore', rng.int(30, 45), 90000)],
        },
      ],
    };
    for (const s of [sol, alpha]) {
      this.systems.set(s.id, s);
      for (const p of s.pois) this.pois.set(p.id, p);
    }
    this.bases.set('earth_station', {
      id: 'earth_station',
      poi_id: 'earth',
      name: 'Earth Orbital Station',
      description: 'The busiest trade hub in Solarian space.',
      empire: 'solarian',
      services: ['market', 'refuel', 'repair', 'storage', 'shipyard'],
      fuel_price: 1,
    });
    const base: [string, string, number][] = [
      ['iron_ore', 'ore', 5],
      ['copper_ore', 'ore', 8],
      ['nickel_ore', 'ore', 12],
      ['silicon_ore', 'ore', 10],
      ['titanium_ore', 'ore', 20],
      ['fuel_cell', 'consumable', 15],
      ['repair_kit', 'consumable', 40],
    ];
    const mrng = rng.fork('market/earth_station');
    this.markets.set(
      'earth_station',
      base.map(([item_id, category, p]) => {
        const buy = Math.max(1, Math.round(p * (0.85 + mrng.next() * 0.3)));
        return {
          item_id,
          item_name: itemName(item_id),
          category,
          buy_price: buy,
          sell_price: buy + Math.max(1, Math.round(p * 0.2)),
          buy_quantity: mrng.int(5000, 20000),
          sell_quantity: mrng.int(200, 2000),
        };
      }),
    );
  }

  distance(a: PoiDef, b: PoiDef): number {
    return Math.hypot(a.position.x - b.position.x, a.position.y - b.position.y);
  }

  marketItem(baseId: string, itemId: string): MarketItem | undefined {
    const key = itemId.toLowerCase().replace(/\s+/g, '_');
    return this.markets.get(baseId)?.find((m) => m.item_id === key || m.item_name.toLowerCase() === itemId.toLowerCase());
  }
}
