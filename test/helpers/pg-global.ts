// Test schemas are dropped once, after every test file has finished (and leftovers of an
// interrupted run before they start): a test's bot processes may still hold a connection (and its
// locks) when the test's cleanup runs. Our migrator reads only its own schema
// (src/db/pg-introspector.ts), so the schemas left until then cost nothing to the others.
import pg from "pg";

async function dropTestSchemas(): Promise<void> {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) return;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ nspname: string }>("select nspname from pg_namespace where nspname ~ '^t_[0-9a-f]{12}$'");
    for (const { nspname } of rows) await client.query(`drop schema if exists ${nspname} cascade`);
  } finally {
    await client.end();
  }
}

export async function setup(): Promise<void> {
  await dropTestSchemas();
}

export async function teardown(): Promise<void> {
  await dropTestSchemas();
}
