import * as path from 'node:path';
import { findRepoRoot } from '@rewind/config';

export const MIGRATIONS_DIR = path.join(findRepoRoot(), 'prisma', 'migrations');
export const SCHEMA_PATH = path.join(findRepoRoot(), 'prisma', 'schema.prisma');
