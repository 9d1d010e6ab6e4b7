'use strict';
// `require('concurry')`: the ES module build, loaded through require(esm) (see require.cjs).
module.exports = require('./require.cjs').requireEsm('concurry', '../dist/src/index.js');
