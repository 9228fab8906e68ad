/** Types for stats.mjs, so the TypeScript benches share its helpers. */

export function median(values: readonly number[]): number;
export function fmt(ms: number | undefined): string;
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string;
export function summarise(runs: readonly unknown[]): Record<string, number>;
