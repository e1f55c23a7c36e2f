import { Db } from '@rewind/db';
import { Platform, SessionsRepository } from '@rewind/event-store';

/**
 * The recorded session that holds a platform run's frames (by the platform's own session id): its most complete
 * recording, whichever capturer made it — the one covering the run's earliest tick and its final frame (the rule
 * and its tie-breaks: `SessionsRepository.runRecording`, docs/replay.md); of that game when `slug` is given. Used by
 * MoltStation's token endpoint and the platform replay sockets alike. `db`: the sessions repository, the
 * PrismaService, or a `pg` pool it borrows.
 */
export async function findRunRecording(db: Db | SessionsRepository, platform: Platform, platformSessionId: string, slug?: string): Promise<string | null> {
  const sessions = db instanceof SessionsRepository ? db : new SessionsRepository(db);
  return sessions.runRecording(platform, platformSessionId, slug);
}
