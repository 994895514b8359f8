// Types of check-openapi.mjs's exported helpers, for its test
// (src/checkOpenapi.test.ts); the script itself is plain JavaScript so that
// `node check-openapi.mjs` runs it with no build step.
export function sortKeys<T>(value: T): T;
export function canonicalText(doc: unknown): string;
export function routesOf(doc: unknown): Map<string, string>;
export function routeChanges(snapshot: unknown, served: unknown): string[];
export function lineDiff(a: string, b: string, context?: number): string[];
export function compareDocuments(snapshot: unknown, served: unknown): string[] | null;
export function openapiUrl(arg: string): string;
