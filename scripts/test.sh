# ./rewind test: the whole suite. Type-checks the workspace, then runs every unit and integration test
# with Jest against real Postgres and Redis (started locally by Jest's global setup when DATABASE_URL /
# REDIS_URL are not set, and stopped again if this run started them). Extra arguments go to Jest.
set -euo pipefail
echo "rewind test: type-checking (tsc --noEmit)…" >&2
node node_modules/typescript/bin/tsc -p tsconfig.json --noEmit
# The web viewer's browser modules (DOM types, ES modules): apps/viewer/tsconfig.json.
node node_modules/typescript/bin/tsc -p apps/viewer/tsconfig.json --noEmit
echo "rewind test: running the test suite (jest)…" >&2
mkdir -p test-output
results=test-output/jest-results.json
rm -f "$results"
status=0
node node_modules/jest/bin/jest.js --ci --json --outputFile="$results" "$@" || status=$?
if [[ -f "$results" ]]; then
  # One plain closing line for CI: "N passed, N failed".
  node -e 'const r=require(process.argv[1]); if (r.numTotalTests === 0) { console.log("rewind test: no test ran"); process.exit(1); } console.log(`rewind test: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""))' "$PWD/$results" || status=1
fi
exit "$status"
