// Types of `require('concurry/distributed')`: the same as the ES module entry (loaded through require(esm)).
export * from '../dist/src/distributed.js';
