/**
 * The vocabulary of the event log (mirrors the enums of prisma/schema.prisma; libs/event-store re-exports it).
 * It lives at this layer because the platform modules speak it: a platform's classifier says which kind of
 * event a message is, its audit checks read events by kind, direction and channel.
 */

export const EVENT_KINDS = ['frame', 'input', 'command', 'notification', 'request', 'response', 'lifecycle', 'gap', 'marker', 'outcome', 'keyframe'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export const DIRECTIONS = ['client_to_platform', 'platform_to_client', 'internal'] as const;
export type Direction = (typeof DIRECTIONS)[number];

export const CHANNELS = ['play_ws', 'spectate_ws', 'http', 'poll', 'internal'] as const;
export type Channel = (typeof CHANNELS)[number];

/** How the body is to be read: JSON, NDJSON batch, other text, binary bytes, or nothing. */
export const BODY_FORMATS = ['json', 'ndjson', 'text', 'binary', 'empty'] as const;
export type BodyFormat = (typeof BODY_FORMATS)[number];

export const SESSION_STATUSES = ['open', 'ended', 'sealed'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];
