'use strict';
// `require('concurry/distributed')`: the ES module build, loaded through require(esm) (see require.cjs).
module.exports = require('./require.cjs').requireEsm('concurry/distributed', '../dist/src/distributed.js');
