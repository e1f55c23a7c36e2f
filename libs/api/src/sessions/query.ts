import { BadRequestException } from '@nestjs/common';

/** Query-string parsing with clear 400s naming the parameter (house style: validate at the edge). */
export function intParam(raw: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new BadRequestException({ error: 'invalid_parameter', message: `${name} must be an integer from ${min} to ${max}` });
  }
  return Number(raw);
}

export function oneOfParam<T extends string>(raw: string | undefined, name: string, allowed: readonly T[]): T | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new BadRequestException({ error: 'invalid_parameter', message: `${name} must be one of ${allowed.join(', ')}` });
  }
  return raw as T;
}

export function timeParam(raw: string | undefined, name: string): Date | undefined {
  if (raw === undefined || raw === '') return undefined;
  const d = new Date(raw);
  if (Number.isNaN(d.getTime())) throw new BadRequestException({ error: 'invalid_parameter', message: `${name} must be an ISO 8601 time` });
  // Years 1–9999: what an ISO 8601 timestamp (and Prisma's DateTime) can carry; year 0 or 275760 are no filter anyone means.
  const year = d.getUTCFullYear();
  if (year < 1 || year > 9999) throw new BadRequestException({ error: 'invalid_parameter', message: `${name} must be a time between the years 1 and 9999` });
  return d;
}

export function textParam(raw: string | undefined, name: string, max = 200): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  // `?agent=a&agent=b` arrives as an array: one value per parameter.
  if (typeof raw !== 'string') throw new BadRequestException({ error: 'invalid_parameter', message: `${name} must be given once` });
  if (raw.length > max) throw new BadRequestException({ error: 'invalid_parameter', message: `${name} is longer than ${max} characters` });
  // Postgres text cannot hold NUL: refused here with the parameter's name, not as a database error.
  if (raw.includes('\u0000')) throw new BadRequestException({ error: 'invalid_parameter', message: `${name} must not contain a NUL character` });
  return raw;
}

/** The filters sessions and runs share, validated: platform, game, agent and the start time range (`from`, `to`). */
export interface CommonFilters<P extends string> {
  platform?: P;
  game?: string;
  agent?: string;
  /** Started at or after. */
  from?: Date;
  /** Started before. */
  to?: Date;
}

/** The filters sessions and runs share: platform, game, agent and the start time range (`from`, `to`). */
export function commonFilters<P extends string>(q: Record<string, string | undefined>, platforms: readonly P[]): CommonFilters<P> {
  const platform = oneOfParam(q['platform'], 'platform', platforms);
  const game = textParam(q['game'], 'game');
  const agent = textParam(q['agent'], 'agent');
  const from = timeParam(q['from'], 'from');
  const to = timeParam(q['to'], 'to');
  return { ...(platform ? { platform } : {}), ...(game ? { game } : {}), ...(agent ? { agent } : {}), ...(from ? { from } : {}), ...(to ? { to } : {}) };
}
