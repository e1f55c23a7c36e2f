import type { Pool } from 'pg';

/**
 * The recorded session that holds a MoltStation run's frames: the spectator's stream of it if there is one,
 * else the proxy's (the longest); of that game when `slug` is given. Used by the token endpoint and the
 * spectate socket alike.
 */
export async function findMoltstationRecording(pool: Pool, platformSessionId: string, slug?: string): Promise<string | null> {
  const { rows } = await pool.query<{ id: string }>(
    `SELECT id FROM sessions WHERE platform = 'moltstation' AND platform_session_id = $1 AND ($2::text IS NULL OR game = $2 OR game IS NULL) AND metadata->>'stream' = 'run'
      ORDER BY (metadata->>'capturedBy' = 'spectator') DESC, head_seq DESC LIMIT 1`,
    [platformSessionId, slug ?? null],
  );
  return rows[0]?.id ?? null;
}
