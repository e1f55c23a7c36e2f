# ./rewind test: the whole suite. Type-checks, lints (ESLint) and checks the formatting (Prettier) of the
# workspace, then runs every unit and integration test with Jest against real Postgres and Redis (started locally by Jest's global setup when DATABASE_URL /
# REDIS_URL are not set, and stopped again if this run started them). Extra arguments go to Jest.
set -euo pipefail
echo "rewind test: type-checking (tsc --noEmit)…" >&2
node node_modules/typescript/bin/tsc -p tsconfig.json --noEmit
# The web viewer's browser modules (DOM types, ES modules): apps/viewer/tsconfig.json.
node node_modules/typescript/bin/tsc -p apps/viewer/tsconfig.json --noEmit
echo "rewind test: linting (eslint, zero warnings)…" >&2
# The module-boundary rule reads Nx's project graph from .nx/workspace-data; without it the rule is skipped
# (a warning, not an error). Compute it afresh first, so a fresh clone is checked like any other.
mkdir -p test-output
node node_modules/nx/bin/nx.js graph --file=test-output/nx-graph.json >/dev/null || { echo "rewind test: nx could not compute the project graph" >&2; exit 1; }
node node_modules/eslint/bin/eslint.js . --max-warnings 0 || { echo "rewind test: lint failed (npm run lint; see docs/development.md)" >&2; exit 1; }
echo "rewind test: checking the formatting (prettier --check)…" >&2
node node_modules/prettier/bin/prettier.cjs --check . --log-level warn || { echo "rewind test: formatting check failed (npm run format writes it)" >&2; exit 1; }
echo "rewind test: running the test suite (jest)…" >&2
mkdir -p test-output
results=test-output/jest-results.json
soak_results=test-output/jest-soak-results.json
rm -f "$results" "$soak_results"
status=0
node node_modules/jest/bin/jest.js --ci --json --outputFile="$results" "$@" || status=$?
# The soak with every fault (*.soak-spec.ts) runs alone afterwards, in a pass of its own, so it does not
# share the cores with other timing-sensitive tests; only for the whole suite (no Jest arguments given).
if [[ $# -eq 0 ]]; then
  echo "rewind test: the soak with every fault (apps/cli/src/bench/soak-faults.soak-spec.ts, ~1 min)…" >&2
  node node_modules/jest/bin/jest.js --ci --json --outputFile="$soak_results" --testMatch '**/*.soak-spec.ts' || status=$?
fi
if [[ -f "$results" ]]; then
  # One plain closing line for CI: "N passed, N failed" (both passes).
  node -e 'const fs=require("fs"); const rs=process.argv.slice(1).filter((f)=>fs.existsSync(f)).map((f)=>require(f)); const sum=(k)=>rs.reduce((a,r)=>a+r[k],0); if (sum("numTotalTests") === 0) { console.log("rewind test: no test ran"); process.exit(1); } console.log(`rewind test: ${sum("numPassedTests")} passed, ${sum("numFailedTests")} failed` + (sum("numPendingTests") ? `, ${sum("numPendingTests")} skipped` : ""))' "$PWD/$results" "$PWD/$soak_results" || status=1
fi
exit "$status"
