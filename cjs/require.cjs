'use strict';
// Shared by the CommonJS entries: concurry is an ES module package. Node >= 20.19 (and >= 22.12)
// can require() an ES module that has no top-level await, which concurry's entries never use;
// older versions get an error that says so and what to do, instead of ERR_REQUIRE_ESM.
exports.requireEsm = function requireEsm(specifier, path) {
  if (!process.features || !process.features.require_module) {
    throw new Error(
      `${specifier} is an ES module package and this Node.js (${process.version}) cannot require() ES modules. ` +
        `Use \`import ... from '${specifier}'\` (or \`await import('${specifier}')\` from CommonJS), ` +
        'or upgrade to Node.js 20.19+ / 22.12+, where require() loads it.',
    );
  }
  return require(path);
};
