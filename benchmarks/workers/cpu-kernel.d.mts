/** Runs `iterations` rounds of fixed CPU work; the result depends on every round. */
export declare function crunch(iterations: number): number;
