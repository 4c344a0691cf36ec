// Runs the migrations of migrations/ (numbered files exporting up and down, listed in
// migrations/index.ts). Idempotent: used by `npm run migrate` and at every start-up. Kysely's
// Migrator takes a lock, so two replicas starting together do not both migrate.
import { Migrator } from "kysely";
import { migrations } from "../../migrations/index.js";
import type { Db } from "./database.js";

export class MigrationError extends Error {
  constructor(
    readonly migration: string,
    cause: unknown,
  ) {
    super(`migration ${migration} failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "MigrationError";
  }
}

export const MIGRATION_NAMES = Object.keys(migrations);

/** Applies every pending migration; returns the names applied now. */
export async function migrateToLatest(db: Db): Promise<string[]> {
  // Kysely looks for its own tables in any schema unless told which; another app's (or a parallel
  // test's) schema must not count.
  const migrator = new Migrator({ db: db.kysely, provider: { getMigrations: async () => migrations }, migrationTableSchema: db.schema });
  const { error, results = [] } = await migrator.migrateToLatest();
  const failed = results.find((r) => r.status === "Error");
  if (error || failed) throw new MigrationError(failed?.migrationName ?? "(setup)", error);
  return results.filter((r) => r.status === "Success").map((r) => r.migrationName);
}
