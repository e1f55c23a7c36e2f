// SWC settings shared by the runtime loader (scripts/register.js) and Jest (jest.config.js):
// TypeScript with legacy decorators and decorator metadata (NestJS injects by type), CommonJS output.
'use strict';
module.exports = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};
