import * as fs from 'node:fs';
import { LocalServices } from '@rewind/local-services';
import { TEST_STATE_FILE } from './test-env';

/** Stops the local servers the global setup started (servers found running are left running). */
export default async function globalTeardown(): Promise<void> {
  const services = (globalThis as Record<string, unknown>).__rewindServices as LocalServices | undefined;
  if (process.env.REWIND_TEST_KEEP_SERVICES !== '1') await services?.stop();
  fs.rmSync(TEST_STATE_FILE, { force: true });
}
