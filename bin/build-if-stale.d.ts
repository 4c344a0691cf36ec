// Types of build-if-stale.js (plain JS: it runs before anything is compiled).
export function staleReason(root: string): string | undefined;
