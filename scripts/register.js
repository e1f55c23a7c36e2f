// Runs the TypeScript sources directly: compiles each .ts file with SWC on require (decorator metadata
// included, which NestJS needs) and resolves the workspace's @rewind/* aliases from tsconfig.base.json.
'use strict';
const Module = require('node:module');
const path = require('node:path');
const fs = require('node:fs');
const { transformSync } = require('@swc/core');

const root = path.resolve(__dirname, '..');
const paths = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.base.json'), 'utf8')).compilerOptions.paths;
const aliases = new Map(Object.entries(paths).map(([name, [target]]) => [name, path.join(root, target)]));

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  return resolve.call(this, aliases.get(request) ?? request, parent, ...rest);
};

const options = require('./swc-options.js');
require.extensions['.ts'] = function compileTs(module, filename) {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), { ...options, filename });
  module._compile(code, filename);
};
