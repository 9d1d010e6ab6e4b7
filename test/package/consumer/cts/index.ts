// A TypeScript project compiled to CommonJS: `import` becomes require('concurry').
import { Worker, gather } from 'concurry';

class Adder extends Worker {
  add(a: number, b: number): number {
    return a + b;
  }
}

async function main(): Promise<void> {
  const adder = Adder.options({ mode: 'async' }).init();
  const [sum] = await gather([adder.add(2, 3)]);
  await adder.stop();
  console.log(JSON.stringify({ sum }));
}
void main();
