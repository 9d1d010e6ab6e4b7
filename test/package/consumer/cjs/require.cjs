// require('concurry') from CommonJS: prints which exports arrived and a sync-mode call's result.
const concurry = require('concurry');

class Adder extends concurry.Worker {
  add(a, b) {
    return a + b;
  }
}

(async () => {
  const adder = Adder.options({ mode: 'sync' }).init();
  const sum = await adder.add(2, 3);
  await adder.stop();
  console.log(JSON.stringify({ worker: typeof concurry.Worker, gather: typeof concurry.gather, sum }));
})();
