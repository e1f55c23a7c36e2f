import { Controller, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { EventStore, SessionsRepository } from '@rewind/event-store';
import { moltstation } from '@rewind/platforms';
import { findRunRecording } from './recordings';
import { RequireScope } from '../auth/scope.guard';
import { ReplayAuth } from './replay-auth';

export const REPLAY_TOKEN_TTL_MS = 60 * 60_000;

/** Replay tokens: minted with an API key, good for one session for an hour (see docs/replay.md). */
@ApiTags('replay')
@Controller()
export class ReplayTokenController {
  constructor(
    private readonly auth: ReplayAuth,
    private readonly store: EventStore,
    private readonly sessions: SessionsRepository,
  ) {}

  @Post('api/sessions/:id/replay-token')
  @HttpCode(200)
  @ApiOperation({ summary: 'A replay token for one session (WebSocket /replay/:id?token=…), valid 1 h' })
  @RequireScope('replay')
  async mint(@Param('id') id: string) {
    if (!(await this.store.getSession(id))) throw new NotFoundException({ error: 'not_found', message: `no session ${id.slice(0, 80)}` });
    return { sessionId: id, ...this.auth.mint(id, REPLAY_TOKEN_TTL_MS) };
  }

  /**
   * MoltStation's own token endpoints under the replay base, so an unmodified spectator client (given an API
   * key as its bearer) gets a token for the recorded run of `{sessionId}` (the platform's session id).
   */
  @Post(['replay/moltstation/api/games/:slug/sessions/:sessionId/spectate-token', 'replay/moltstation/api/games/:slug/sessions/:sessionId/spectate-token-public'])
  @HttpCode(200)
  @RequireScope('replay')
  async moltstationToken(@Param('slug') slug: string, @Param('sessionId') sessionId: string) {
    const recording = await findRunRecording(this.sessions, moltstation.id, sessionId.slice(0, 200), slug.slice(0, 100));
    if (!recording) throw new NotFoundException({ error: 'Session not found', code: 'SESSION_NOT_FOUND' });
    const { token, expiresAt } = this.auth.mint(recording, REPLAY_TOKEN_TTL_MS);
    return { token, spectateToken: token, expiresAt, spectators: { current: 0, max: 25 } };
  }
}
