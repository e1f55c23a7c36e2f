import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findRepoRoot } from '@rewind/config';

/**
 * Prisma is the data layer (docs/data-layer.md): product code reaches Postgres through the PrismaService and
 * the repositories on it. These files, and only these, may import `pg` or `pg-copy-streams` directly, each
 * for the reason given. A new entry needs a reason of the same kind; a read or write path kept on raw `pg`
 * needs its benchmark in docs/benchmarks.md ("Prisma vs pg on the read paths") showing Prisma costs more
 * than 20 % there. Test code (specs, test-support/, libs/testing) is not scanned.
 */
const ALLOWED: Record<string, string> = {
  // The data layer itself.
  'libs/db/src/pg.ts': 'the pool factory: the one pool of a process, under the PrismaService (adapter-pg)',
  'libs/db/src/prisma.service.ts': 'PrismaService wraps that pool (adapter-pg) and exposes it for the COPY append',
  'libs/db/src/transaction.ts': "the append's pg transaction (a lost connection is absorbed, not a crash)",
  'libs/db/src/migrate.ts': 'migrations run as SQL scripts under an advisory lock on one connection, before any PrismaService exists',
  'libs/db/src/index.ts': 're-exports the Pool / PoolClient types, so that no other file needs to import them from pg',
  // The standing exception (decision 2): the events append by COPY.
  'libs/event-store/src/append.ts': 'the events append by COPY (pg-copy-streams): Prisma has no COPY; createMany reaches a tenth of it',
  'libs/event-store/bench/read-paths.ts': 'the read-path benchmark: its pg baseline against Prisma (docs/benchmarks.md)',
  // Servers and tools that create a database, not query one.
  'libs/local-services/src/postgres.ts': 'starts a local Postgres and creates its database (a Client on the postgres database)',
  'apps/cli/src/runtime.ts': 'migrates the database at start-up (the pool handed to migrate)',
  'apps/cli/src/bench/scratch-db.ts': 'benchmarks create and drop scratch databases',
  'apps/cli/src/bench/ingest.ts': "the ingest benchmark's baseline: raw COPY into a minimal table, the ceiling the append is measured against",
  'apps/cli/src/bench/soak.ts': 'the soak types the pool of its scratch database',
  'apps/cli/src/bench/cpu-account.ts': "the soak's CPU account reads the Postgres backends' pids from pg_stat_activity on its scratch database's pool",
};

const IMPORTS_PG = /(?:\bfrom\s*|\brequire\s*\(\s*|\bimport\s*\(\s*)['"](?:pg|pg-copy-streams)['"]/;

const isTestCode = (rel: string): boolean => /\.(?:int-|e2e-)?spec\.ts$/.test(rel) || rel.includes('/test-support/') || rel.startsWith('libs/testing/') || rel.includes('/generated/');

function sources(root: string, dir: string, out: string[] = []): string[] {
  for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) sources(root, rel, out);
    else if (/\.(?:ts|js|mjs|cjs)$/.test(entry.name) && !isTestCode(rel)) out.push(rel);
  }
  return out;
}

export function filesImportingPg(root: string): string[] {
  return ['apps', 'libs']
    .flatMap((d) => sources(root, d))
    .filter((rel) => IMPORTS_PG.test(fs.readFileSync(path.join(root, rel), 'utf8')))
    .sort();
}

describe('which files may import pg directly', () => {
  const root = findRepoRoot();

  it('only the allow-listed files import pg or pg-copy-streams (everything else goes through the PrismaService)', () => {
    const offenders = filesImportingPg(root).filter((f) => !(f in ALLOWED));
    expect(offenders).toEqual([]);
  });

  it('every allow-list entry names a file that still imports pg, and gives a reason', () => {
    const importing = new Set(filesImportingPg(root));
    for (const [file, reason] of Object.entries(ALLOWED)) {
      expect({ file, importsPg: importing.has(file) }).toEqual({ file, importsPg: true });
      expect(reason.length).toBeGreaterThan(20);
    }
  });

  it('notices a new file that imports pg, whichever way it does', () => {
    for (const line of [
      "import { Pool } from 'pg';",
      'import type { PoolClient } from "pg";',
      "const { Pool } = require('pg');",
      "const copy = await import('pg-copy-streams');",
      "import { from } from 'pg-copy-streams'",
    ]) {
      expect({ line, matches: IMPORTS_PG.test(line) }).toEqual({ line, matches: true });
    }
    for (const line of ["import { x } from 'pg-format';", "import { PrismaPg } from '@prisma/adapter-pg';", "import { Db } from '@rewind/db';"]) {
      expect({ line, matches: IMPORTS_PG.test(line) }).toEqual({ line, matches: false });
    }
    const dir = fs.mkdtempSync(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pg-imports-')), 'repo-'));
    fs.mkdirSync(path.join(dir, 'apps'));
    fs.mkdirSync(path.join(dir, 'libs/x/src'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'libs/x/src/new-reader.ts'), "import { Pool } from 'pg';\n");
    fs.writeFileSync(path.join(dir, 'libs/x/src/new-reader.int-spec.ts'), "import { Pool } from 'pg';\n");
    expect(filesImportingPg(dir)).toEqual(['libs/x/src/new-reader.ts']);
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  });
});
