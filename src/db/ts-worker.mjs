// Starts a TypeScript worker thread when ghconnect runs from its sources (tsx, vitest): Node 20
// does not carry tsx's loader into worker threads. The compiled build (dist/) starts its .js
// workers directly and never loads this file.
import { workerData } from "node:worker_threads";
import { tsImport } from "tsx/esm/api";

await tsImport(workerData.entry, import.meta.url);
