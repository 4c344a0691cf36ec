// The person_links table: a Slack user's proven GHES login and github.com account, with the user
// tokens sealed by the SecretBox under additional data naming the person, the side and the row,
// so a token copied to another person's row does not open.
import { randomUUID } from "node:crypto";
import type { ExpressionBuilder, Kysely, Selectable } from "kysely";
import type { Clock } from "../core/clock.js";
import type { LinkSide, LinksStore, PersonLink, UserTokens } from "../core/identity.js";
import type { Database, PersonLinksTable } from "./schema.js";
import { CredentialTampered, parseEnvelope, type SecretBox, WrongEncryptionKey } from "./secret-box.js";

type Row = Selectable<PersonLinksTable>;
/** What a sealed token is bound to. */
type RowKeys = Pick<Row, "slack_user_id" | "side" | "id">;

/** The one row a person has on a side. */
const personSide = (slackUserId: string, side: LinkSide) => (eb: ExpressionBuilder<Database, "person_links">) =>
  eb.and([eb("slack_user_id", "=", slackUserId), eb("side", "=", side)]);

const aad = (row: RowKeys, what: "token" | "refresh") => `ghconnect:v2:person:${row.slack_user_id}:link-${row.side}-${what}:${row.id}`;

export class LinksRepo implements LinksStore {
  constructor(
    private readonly q: Kysely<Database>,
    private readonly clock: Clock,
    private readonly box: SecretBox,
  ) {}

  private open(row: Row, what: "token" | "refresh", sealed: string): string {
    const label = `${row.side} link ${what} of ${row.slack_user_id}`;
    const envelope = parseEnvelope(sealed);
    if (!envelope) throw new CredentialTampered(label, "it is not in a format this version can read");
    return this.box.open(envelope, aad(row, what), label);
  }

  /** The row's user token and refresh token, opened. */
  private openTokens(row: Row): { token: string; refreshToken?: string } {
    return {
      token: this.open(row, "token", row.token_ciphertext),
      refreshToken: row.refresh_ciphertext ? this.open(row, "refresh", row.refresh_ciphertext) : undefined,
    };
  }

  private toLink(row: Row): PersonLink {
    return {
      slackUserId: row.slack_user_id,
      side: row.side as LinkSide,
      login: row.login,
      ...(row.ghes_user_id !== null ? { ghesUserId: Number(row.ghes_user_id) } : {}),
      connectionId: row.connection_id,
      ...this.openTokens(row),
      expiresAt: row.expires_at ?? undefined,
      refreshTokenExpiresAt: row.refresh_expires_at ?? undefined,
      status: row.status === "expired" ? "expired" : "active",
      linkedAt: row.linked_at,
    };
  }

  /** The key to write with: the active one (as the credentials repo), which this replica must hold. */
  private async writeKey(): Promise<string> {
    const row = await this.q.selectFrom("active_encryption_key").select(["key_id", "since"]).executeTakeFirst();
    const keyId = row?.key_id ?? this.box.keyId;
    if (!this.box.holds(keyId))
      throw new WrongEncryptionKey(
        `the active encryption key is ${keyId} since ${row?.since}, which this replica was not given (it holds ${this.box.keyIds.join(", ")}): restart it with GHCONNECT_ENCRYPTION_KEY set to the new key`,
      );
    return keyId;
  }

  /** The tokens sealed under `keyId`, bound to their row. */
  private sealTokens(row: RowKeys, tokens: { token: string; refreshToken?: string }, keyId: string) {
    return {
      token_ciphertext: this.box.seal(tokens.token, aad(row, "token"), keyId),
      refresh_ciphertext: tokens.refreshToken ? this.box.seal(tokens.refreshToken, aad(row, "refresh"), keyId) : null,
      key_id: keyId,
    };
  }

  private sealed(row: RowKeys, tokens: UserTokens, keyId: string) {
    return {
      ...this.sealTokens(row, tokens, keyId),
      expires_at: tokens.expiresAt ?? null,
      refresh_expires_at: tokens.refreshTokenExpiresAt ?? null,
    };
  }

  /** The person's row on that side (one at most). */
  private row(slackUserId: string, side: LinkSide): Promise<Row | undefined> {
    return this.q.selectFrom("person_links").selectAll().where(personSide(slackUserId, side)).executeTakeFirst();
  }

  async get(slackUserId: string, side: LinkSide): Promise<PersonLink | undefined> {
    const row = await this.row(slackUserId, side);
    return row && this.toLink(row);
  }

  async all(slackUserId: string): Promise<PersonLink[]> {
    const rows = await this.q.selectFrom("person_links").selectAll().where("slack_user_id", "=", slackUserId).orderBy("side").execute();
    return rows.map((r) => this.toLink(r));
  }

  async ownerOf(side: LinkSide, login: string): Promise<string | undefined> {
    const row = await this.q
      .selectFrom("person_links")
      .select("slack_user_id")
      .where("side", "=", side)
      .where("login_key", "=", login.toLowerCase())
      .executeTakeFirst();
    return row?.slack_user_id;
  }

  /**
   * The Slack user whose GHES link is this GHES account (its user id survives renames), and the
   * login it was linked as.
   */
  async ownerOfGhesAccount(ghesUserId: number): Promise<{ slackUserId: string; login: string } | undefined> {
    const row = await this.q
      .selectFrom("person_links")
      .select(["slack_user_id", "login"])
      .where("side", "=", "ghes")
      .where("ghes_user_id", "=", ghesUserId)
      .executeTakeFirst();
    return row && { slackUserId: row.slack_user_id, login: row.login };
  }

  /** Proven GHES logins by Slack user, for the roster (no token is opened). */
  async provenGhesLogins(): Promise<Map<string, string>> {
    const rows = await this.q.selectFrom("person_links").select(["slack_user_id", "login"]).where("side", "=", "ghes").execute();
    return new Map(rows.map((r) => [r.slack_user_id, r.login]));
  }

  async put(link: PersonLink): Promise<boolean> {
    const now = this.clock().toISOString();
    const id = randomUUID();
    const keys = { slack_user_id: link.slackUserId, side: link.side, id };
    await this.q.deleteFrom("person_links").where(personSide(link.slackUserId, link.side)).execute();
    const result = await this.q
      .insertInto("person_links")
      .values({
        ...keys,
        login: link.login,
        login_key: link.login.toLowerCase(),
        ghes_user_id: link.ghesUserId ?? null,
        connection_id: link.connectionId,
        ...this.sealed(keys, link, await this.writeKey()),
        status: link.status,
        linked_at: link.linkedAt,
        updated_at: now,
      })
      // ON CONFLICT, not a caught error (a failed statement aborts a PostgreSQL transaction): the
      // unique login and GHES account indexes are the last word when two people link at once.
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async updateTokens(slackUserId: string, side: LinkSide, previousToken: string, tokens: UserTokens): Promise<boolean> {
    const row = await this.row(slackUserId, side);
    if (!row || this.open(row, "token", row.token_ciphertext) !== previousToken) return false;
    const result = await this.q
      .updateTable("person_links")
      .set({ ...this.sealed(row, tokens, await this.writeKey()), status: "active", updated_at: this.clock().toISOString() })
      .where("id", "=", row.id)
      // Two replicas refreshing at once: only the one that read the current row writes.
      .where("token_ciphertext", "=", row.token_ciphertext)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async markExpired(slackUserId: string, side: LinkSide): Promise<void> {
    await this.q
      .updateTable("person_links")
      .set({ status: "expired", updated_at: this.clock().toISOString() })
      .where(personSide(slackUserId, side))
      .execute();
  }

  async remove(slackUserId: string, side: LinkSide): Promise<boolean> {
    const result = await this.q.deleteFrom("person_links").where(personSide(slackUserId, side)).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async forConnection(connectionId: string): Promise<PersonLink[]> {
    const rows = await this.q.selectFrom("person_links").selectAll().where("connection_id", "=", connectionId).execute();
    return rows.map((r) => this.toLink(r));
  }

  async removeForConnection(connectionId: string): Promise<number> {
    const result = await this.q.deleteFrom("person_links").where("connection_id", "=", connectionId).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Key ids the stored tokens are sealed with (start-up checks them like the credentials'). */
  async keyIds(): Promise<string[]> {
    const rows = await this.q.selectFrom("person_links").select("key_id").distinct().execute();
    return rows.map((r) => r.key_id);
  }

  /** rotate-key: every link's tokens opened and sealed again under `keyId`. */
  async reencryptAll(keyId: string): Promise<number> {
    const rows = await this.q.selectFrom("person_links").selectAll().execute();
    for (const row of rows) {
      await this.q
        .updateTable("person_links")
        .set(this.sealTokens(row, this.openTokens(row), keyId))
        .where("id", "=", row.id)
        .execute();
    }
    return rows.length;
  }

  async expiringBefore(before: string): Promise<PersonLink[]> {
    const rows = await this.q
      .selectFrom("person_links")
      .selectAll()
      .where("side", "=", "github")
      .where("status", "=", "active")
      .where("expires_at", "is not", null)
      .where("expires_at", "<=", before)
      .execute();
    return rows.map((r) => this.toLink(r));
  }
}
