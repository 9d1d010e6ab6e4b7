// Types of `require('concurry')`: the same as the ES module entry (loaded through require(esm)).
export * from '../dist/src/index.js';
