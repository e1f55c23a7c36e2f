# Sourced by ./rewind: makes sure the project can run (Node version, dependencies, Prisma client).
# Idempotent and quiet when there is nothing to do.
need_major=20; need_minor=19
if ! command -v node >/dev/null 2>&1; then
  echo "rewind: Node.js ${need_major}.${need_minor}+ is required (https://nodejs.org, or apt-get install nodejs)" >&2; exit 1
fi
node_version=$(node -p 'process.versions.node')
IFS=. read -r major minor _ <<<"$node_version"
if (( major < need_major || (major == need_major && minor < need_minor) )); then
  echo "rewind: Node.js ${need_major}.${need_minor}+ is required, found ${node_version}" >&2; exit 1
fi
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "rewind: installing dependencies from package-lock.json…" >&2
  # Not `npm ci`: npm 11 leaves other platforms' optional binaries (SWC, msgpackr) out of the lock file
  # and then refuses `ci`. `install --no-save` installs exactly the locked versions and writes nothing.
  npm install --no-save --no-audit --no-fund --loglevel=error >&2
fi
if [[ ! -f libs/db/src/generated/client.ts || prisma/schema.prisma -nt libs/db/src/generated/client.ts ]]; then
  echo "rewind: generating the Prisma client…" >&2
  node scripts/prisma-generate.mjs >&2
fi
