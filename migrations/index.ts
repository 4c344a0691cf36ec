// The ordered list of migrations. Kysely's FileMigrationProvider imports files at run time,
// which bypasses the TypeScript loader; listing them here keeps them plain files that every
// runner (tsx, vitest) compiles. A test fails if a file in this folder is missing here.
import type { Migration } from "kysely";
import * as m0001 from "./0001_initial.js";
import * as m0002 from "./0002_enable.js";
import * as m0003 from "./0003_encryption_keys.js";
import * as m0004 from "./0004_refusal_tallies.js";
import * as m0005 from "./0005_lean_audit_writes.js";
import * as m0006 from "./0006_person_links.js";
import * as m0007 from "./0007_native_connect.js";
import * as m0008 from "./0008_operation_account_kind.js";
import * as m0009 from "./0009_requester_ghes_login.js";
import * as m0010 from "./0010_trusted_installations.js";
import * as m0011 from "./0011_ghes_user_ids.js";

export const migrations: Record<string, Migration> = {
  "0001_initial": m0001,
  "0002_enable": m0002,
  "0003_encryption_keys": m0003,
  "0004_refusal_tallies": m0004,
  "0005_lean_audit_writes": m0005,
  "0006_person_links": m0006,
  "0007_native_connect": m0007,
  "0008_operation_account_kind": m0008,
  "0009_requester_ghes_login": m0009,
  "0010_trusted_installations": m0010,
  "0011_ghes_user_ids": m0011,
};
