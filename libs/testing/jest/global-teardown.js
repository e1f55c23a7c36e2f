require('../../../scripts/register.js');
module.exports = require('../src/global-teardown.ts').default;
