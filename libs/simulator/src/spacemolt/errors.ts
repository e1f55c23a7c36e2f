/** A game rule violation or bad request: becomes `error {code, message}` (WS), an error envelope (HTTP) or `action_error`. */
export class GameError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export type Outcome = { ok: true; result: Record<string, unknown>; flags?: Record<string, unknown> } | { ok: false; code: string; message: string; details?: unknown };

export const notImplemented = (command: string): GameError =>
  new GameError('not_implemented', `The ${command} command is not implemented in this simulator (Rewind SpaceMolt simulator for gameserver v0.327.2).`);

export const unknownCommand = (command: string): GameError => new GameError('unknown_command', `Unknown command: ${command}. Use get_commands or help to list commands.`);
