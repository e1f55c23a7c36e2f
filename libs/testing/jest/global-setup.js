// Jest runs global setup outside its module system (no moduleNameMapper): load the TypeScript through
// the workspace's own register hook, which resolves the @rewind/* aliases.
require('../../../scripts/register.js');
module.exports = require('../src/global-setup.ts').default;
