// Credentials at rest are bound to their row: what an attacker with write access to the database
// (but not the key) can do by moving ciphertexts around — copy one connection's credential into
// another's row, put an older credential back, truncate the tag — ends in a specific error and
// never in a plaintext. Rows stored before the binding still open and are upgraded.
import { spawnSync } from "node:child_process";
import { createCipheriv, randomBytes } from "node:crypto";
import { Migrator } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { migrations } from "../../migrations/index.js";
import type { Db } from "../../src/db/database.js";
import { migrateToLatest } from "../../src/db/migrate.js";
import { CredentialTampered, keyId, SecretBox } from "../../src/db/secret-box.js";
import { Store } from "../../src/db/store.js";
import { createTestDb, ENGINES, type TestDb } from "../helpers/db.js";

const clock = () => new Date("2026-11-29T12:00:00Z");

async function rowOf(db: Db, where: { connection_id?: string; operation_id?: string; kind: string }) {
  let q = db.kysely.selectFrom("credentials").selectAll().where("kind", "=", where.kind);
  q = where.connection_id ? q.where("connection_id", "=", where.connection_id) : q.where("operation_id", "=", where.operation_id ?? "");
  return q.executeTakeFirstOrThrow();
}

const setCiphertext = (db: Db, id: string, ciphertext: string) =>
  db.kysely.updateTable("credentials").set({ ciphertext }).where("id", "=", id).execute();

/** A value as the previous version stored it: "v1", bound to its kind only. */
function sealV1(key: Buffer, plaintext: string, kind: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(`ghconnect:credential:${kind}`));
  const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return ["v1", keyId(key), iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), ct.toString("base64url")].join(":");
}

/** `ghconnect rotate-key` as an operator runs it on the test database, with `keys` in its environment (and the new key on stdin if `input`). */
function rotateKey(t: TestDb, keys: Record<string, string>, input?: string) {
  return spawnSync(process.execPath, ["bin/ghconnect.js", "rotate-key"], {
    env: { PATH: process.env.PATH ?? "", DOTENV_CONFIG_PATH: "/nonexistent", DATABASE_URL: t.url, ...keys },
    input,
    encoding: "utf8",
  });
}

describe.each(ENGINES)("credentials at rest (%s)", (engine) => {
  let t: TestDb;
  let store: Store;
  const key = randomBytes(32);
  afterEach(async () => {
    await t?.cleanup();
  });
  const setUp = async () => {
    t = await createTestDb(engine);
    await migrateToLatest(t.db);
    store = new Store(t.db, clock, new SecretBox(key));
  };

  it("a private key copied from one connection's row into another's does not open, and the error names the row, not the key", async () => {
    await setUp();
    // A stand-in with a PEM's shape, not a key: its header and footer are spelt in parts.
    const dashes = "-".repeat(5);
    const pemA = `${dashes}BEGIN RSA PRIVATE KEY${dashes}\nAAAA-connection-a\n${dashes}END RSA PRIVATE KEY${dashes}`;
    await store.credentials.put({ connectionId: "conn-a" }, "private_key", pemA);
    await store.credentials.put({ connectionId: "conn-b" }, "private_key", "pem of b");
    const a = await rowOf(t.db, { connection_id: "conn-a", kind: "private_key" });
    const b = await rowOf(t.db, { connection_id: "conn-b", kind: "private_key" });
    await setCiphertext(t.db, b.id, a.ciphertext);

    const read = store.credentials.get({ connectionId: "conn-b" }, "private_key");
    await expect(read).rejects.toThrow(CredentialTampered);
    await expect(read).rejects.toThrow(
      "the stored private_key of connection conn-b failed its integrity check (the tag does not match): it was altered, or copied from another row. Reconnect to replace it.",
    );
    expect((await store.credentials.get({ connectionId: "conn-a" }, "private_key"))?.secret).toBe(pemA);
  });

  it("an older installation token put back into the row of the token that replaced it does not open", async () => {
    await setUp();
    const owner = { connectionId: "conn-a" };
    await store.credentials.put(owner, "installation_token", "ghs_old|1|2026-11-29T12:00:00Z");
    const old = await rowOf(t.db, { connection_id: "conn-a", kind: "installation_token" });
    await store.credentials.put(owner, "installation_token", "ghs_new|1|2026-11-29T13:00:00Z");
    const current = await rowOf(t.db, { connection_id: "conn-a", kind: "installation_token" });
    await setCiphertext(t.db, current.id, old.ciphertext);

    await expect(store.credentials.get(owner, "installation_token")).rejects.toThrow(
      "the stored installation_token of connection conn-a failed its integrity check (the tag does not match)",
    );
  });

  it("a ciphertext whose tag is cut to 4 bytes is refused, not opened", async () => {
    await setUp();
    await store.credentials.put({ connectionId: "conn-a" }, "client_secret", "client-secret-of-a");
    const row = await rowOf(t.db, { connection_id: "conn-a", kind: "client_secret" });
    const parts = row.ciphertext.split(":");
    parts[3] = Buffer.from(parts[3] as string, "base64url")
      .subarray(0, 4)
      .toString("base64url");
    await setCiphertext(t.db, row.id, parts.join(":"));

    const read = store.credentials.get({ connectionId: "conn-a" }, "client_secret");
    await expect(read).rejects.toThrow(CredentialTampered);
    await expect(read).rejects.toThrow(
      "the stored client_secret of connection conn-a failed its integrity check (its tag is 4 bytes, not 16)",
    );
  });

  it("credentials handed from the operation to its connection are re-encrypted for it: the operation's ciphertext no longer fits the row", async () => {
    await setUp();
    await store.credentials.put({ operationId: "op-1" }, "webhook_secret", "webhook-secret-1");
    const before = await rowOf(t.db, { operation_id: "op-1", kind: "webhook_secret" });
    expect(await store.transaction((tx) => tx.credentials.transfer("op-1", "conn-1"))).toBe(1);
    expect((await store.credentials.get({ connectionId: "conn-1" }, "webhook_secret"))?.secret).toBe("webhook-secret-1");
    const after = await rowOf(t.db, { connection_id: "conn-1", kind: "webhook_secret" });
    expect(after.id).toBe(before.id);

    await setCiphertext(t.db, after.id, before.ciphertext);
    await expect(store.credentials.get({ connectionId: "conn-1" }, "webhook_secret")).rejects.toThrow(
      "the stored webhook_secret of connection conn-1 failed its integrity check (the tag does not match)",
    );
  });

  it("a credential stored before the binding (v1) still opens, and the next write stores it bound to its row", async () => {
    await setUp();
    await store.credentials.put({ connectionId: "conn-a" }, "client_secret", "placeholder");
    const row = await rowOf(t.db, { connection_id: "conn-a", kind: "client_secret" });
    await setCiphertext(t.db, row.id, sealV1(key, "client-secret-v1", "client_secret"));
    expect((await store.credentials.get({ connectionId: "conn-a" }, "client_secret"))?.secret).toBe("client-secret-v1");

    await store.credentials.put({ connectionId: "conn-a" }, "client_secret", "client-secret-v1");
    expect((await rowOf(t.db, { connection_id: "conn-a", kind: "client_secret" })).ciphertext).toMatch(/^v2:/);
  });
});

describe.each(ENGINES)("a database from before the key was recorded (%s)", (engine) => {
  let t: TestDb;
  afterEach(async () => {
    await t?.cleanup();
  });

  it("the upgrade records the key of its credentials as active: they open with it, and a replica with another key is refused", async () => {
    t = await createTestDb(engine);
    const migrator = new Migrator({
      db: t.db.kysely,
      provider: { getMigrations: async () => migrations },
      migrationTableSchema: t.db.schema,
    });
    expect((await migrator.migrateTo("0002_enable")).error).toBeUndefined();
    const key = randomBytes(32);
    await t.db.kysely
      .insertInto("credentials")
      .values({
        id: "row-1",
        operation_id: null,
        connection_id: "conn-a",
        kind: "private_key",
        ciphertext: sealV1(key, "pem-of-a", "private_key"),
        key_id: keyId(key),
        expires_at: null,
        created_at: "2026-11-01T00:00:00Z",
      })
      .execute();
    expect(await migrateToLatest(t.db)).toContain("0003_encryption_keys");

    const store = new Store(t.db, clock, new SecretBox(key));
    const active = await store.encryptionKeys.admit(new SecretBox(key), await store.credentials.keyIds());
    expect(active.keyId).toBe(keyId(key));
    expect((await store.credentials.get({ connectionId: "conn-a" }, "private_key"))?.secret).toBe("pem-of-a");
    const other = randomBytes(32);
    await expect(store.encryptionKeys.admit(new SecretBox(other), await store.credentials.keyIds())).rejects.toThrow(
      `GHCONNECT_ENCRYPTION_KEY (id ${keyId(other)}) is not the active key (id ${keyId(key)} since ${active.since}) or a previous one.`,
    );
  });
});

describe("rotate-key and the format before v2", () => {
  let t: TestDb;
  afterEach(async () => {
    await t?.cleanup();
  });

  it("rotate-key rewrites v1 rows bound to their row; a v1 ciphertext put back afterwards does not open, even with the old key still given", async () => {
    t = await createTestDb("sqlite");
    await migrateToLatest(t.db);
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const store = new Store(t.db, clock, new SecretBox(oldKey));
    await store.credentials.put({ connectionId: "conn-a" }, "private_key", "placeholder");
    const row = await rowOf(t.db, { connection_id: "conn-a", kind: "private_key" });
    const v1 = sealV1(oldKey, "pem-from-before", "private_key");
    await setCiphertext(t.db, row.id, v1);

    const rotate = rotateKey(t, {
      GHCONNECT_ENCRYPTION_KEY: oldKey.toString("base64"),
      GHCONNECT_NEW_ENCRYPTION_KEY: newKey.toString("base64"),
    });
    expect(rotate.stderr).toBe("");
    expect(rotate.stdout).toContain(
      `re-encrypted 1 credential (key id ${keyId(oldKey)} → ${keyId(newKey)}), 1 of them from the format before v2.`,
    );
    expect(rotate.status).toBe(0);

    const both = new Store(t.db, clock, new SecretBox(newKey, oldKey));
    expect((await both.credentials.get({ connectionId: "conn-a" }, "private_key"))?.secret).toBe("pem-from-before");
    expect((await rowOf(t.db, { connection_id: "conn-a", kind: "private_key" })).ciphertext).toMatch(new RegExp(`^v2:${keyId(newKey)}:`));
    await setCiphertext(t.db, row.id, v1);
    await expect(both.credentials.get({ connectionId: "conn-a" }, "private_key")).rejects.toThrow(
      "the stored private_key of connection conn-a failed its integrity check (it is in the format before v2 under a key that is no longer active)",
    );
  });

  it("a row that does not open stops rotate-key: nothing is re-encrypted and the row is named", async () => {
    t = await createTestDb("sqlite");
    await migrateToLatest(t.db);
    const oldKey = randomBytes(32);
    const store = new Store(t.db, clock, new SecretBox(oldKey));
    await store.credentials.put({ connectionId: "conn-a" }, "client_secret", "secret-a");
    await store.credentials.put({ connectionId: "conn-b" }, "client_secret", "secret-b");
    const a = await rowOf(t.db, { connection_id: "conn-a", kind: "client_secret" });
    const b = await rowOf(t.db, { connection_id: "conn-b", kind: "client_secret" });
    await setCiphertext(t.db, b.id, a.ciphertext);

    const rotate = rotateKey(t, { GHCONNECT_ENCRYPTION_KEY: oldKey.toString("base64") }, `${randomBytes(32).toString("base64")}\n`);
    expect(rotate.stderr).toBe(
      "ghconnect: rotate-key: the stored client_secret of connection conn-b failed its integrity check (the tag does not match): it was altered, or copied from another row. Reconnect to replace it; nothing was changed.\n",
    );
    expect(rotate.status).toBe(1);
    expect((await rowOf(t.db, { connection_id: "conn-a", kind: "client_secret" })).ciphertext).toBe(a.ciphertext);
    expect((await store.encryptionKeys.active())?.keyId).toBe(keyId(oldKey));
  });
});
