// The fixed CPU work every cpu-work contender runs: `iterations` rounds of an xorshift generator.
// Plain JS so piscina's workers, concurry's and the calibrating main thread run the very same code;
// the result depends on every round, so no compiler can skip the loop.
export function crunch(iterations) {
  let x = 0x9e3779b9 | 0;
  for (let i = 0; i < iterations; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  return x;
}

