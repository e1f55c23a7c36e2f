// Unit tests only (*.spec.ts): no Postgres, no Redis, no global setup. The whole suite (`./rewind test`) uses
// jest.config.js; this one is for the pure parts, e.g. the recorder's lifecycle decider:
//   node node_modules/jest/bin/jest.js -c jest.unit.config.js libs/recorder/src/lifecycle
const base = require('./jest.config.js');

module.exports = { ...base, testMatch: ['**/*.spec.ts'], globalSetup: undefined, globalTeardown: undefined };
