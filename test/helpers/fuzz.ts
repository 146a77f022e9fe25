/**
 * Settings of the property-based fuzz tests: a fixed seed and run count keep `npm test` deterministic;
 * FUZZ_RUNS=<n> (and FUZZ_SEED=<n>) run longer or elsewhere on demand.
 */
export const FUZZ = {
  seed: Number(process.env.FUZZ_SEED ?? 20261126),
  runs: (base: number): number => (process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : base),
};
