// Generates the Prisma client offline. `prisma generate` only needs the schema engine path to exist
// (it does not run it for generation), so point it at a file that is always there.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
const prismaBin = path.join(root, 'node_modules', 'prisma', 'build', 'index.js');
const r = spawnSync(process.execPath, [prismaBin, 'generate', '--no-hints'], { cwd: root, env, stdio: 'inherit' });
process.exit(r.status ?? 1);
