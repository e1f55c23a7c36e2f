import { Db } from '@rewind/db';
import { SessionsRepository } from '@rewind/event-store';

/**
 * The recorded session that holds a MoltStation run's frames: the spectator's stream of it if there is one,
 * else the proxy's (the longest); of that game when `slug` is given. Used by the token endpoint and the
 * spectate socket alike. `db`: the sessions repository, the PrismaService, or a `pg` pool it borrows.
 */
export async function findMoltstationRecording(db: Db | SessionsRepository, platformSessionId: string, slug?: string): Promise<string | null> {
  const sessions = db instanceof SessionsRepository ? db : new SessionsRepository(db);
  return sessions.moltstationRecording(platformSessionId, slug);
}
