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
  return d;
}

export function textParam(raw: string | undefined, name: string, max = 200): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (raw.length > max) throw new BadRequestException({ error: 'invalid_parameter', message: `${name} is longer than ${max} characters` });
  return raw;
}
