import { Client } from 'pg';
import { withDatabase } from '@rewind/db';
import { LocalServices } from '@rewind/local-services';

/** Drops this run's database and stops the local servers the global setup started (found-running ones stay). */
export default async function globalTeardown(): Promise<void> {
  const run = (globalThis as Record<string, unknown>).__rewindTestRun as { services: LocalServices; serverUrl: string; database: string } | undefined;
  if (!run) return;
  const admin = new Client({ connectionString: withDatabase(run.serverUrl, 'postgres') });
  try {
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${run.database} WITH (FORCE)`);
  } catch {
    // The next run's setup drops databases of runs that are gone.
  } finally {
    await admin.end().catch(() => undefined);
  }
  if (process.env.REWIND_TEST_KEEP_SERVICES !== '1') await run.services.stop();
}
