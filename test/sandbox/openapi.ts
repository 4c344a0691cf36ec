// Validates stand-in responses against GitHub's own OpenAPI descriptions (@octokit/openapi), so
// the sandbox cannot drift from the shapes real GitHub sends.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsImport from "ajv-formats";

type Spec = { paths: Record<string, Record<string, { responses: Record<string, unknown> }>>; components: Record<string, unknown> };

const require = createRequire(import.meta.url);
const specs = new Map<string, { spec: Spec; ajv: Ajv }>();
// ajv-formats is CommonJS with a default export; under ESM interop it may arrive wrapped.
const addFormats = ((addFormatsImport as unknown as { default?: typeof addFormatsImport }).default ?? addFormatsImport) as unknown as (
  ajv: Ajv,
) => void;

function load(name: "api.github.com" | "ghes-3.19" | "ghec") {
  let entry = specs.get(name);
  if (!entry) {
    const spec = JSON.parse(readFileSync(require.resolve(`@octokit/openapi/generated/${name}.json`), "utf8")) as Spec;
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    addFormats(ajv);
    ajv.addSchema({ $id: "spec", components: normalize(spec.components) as object });
    entry = { spec, ajv };
    specs.set(name, entry);
  }
  return entry;
}

/** OpenAPI 3.0 → what Ajv reads: local $refs point into the "spec" schema, and `nullable`
 * without `type` (used with allOf/anyOf) becomes an explicit "or null". */
function normalize(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(normalize);
  if (node && typeof node === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node))
      out[k] = k === "$ref" && typeof v === "string" && v.startsWith("#/") ? `spec${v}` : normalize(v);
    if (out.nullable === true && out.type === undefined) {
      const { nullable: _nullable, ...rest } = out;
      return { anyOf: [{ type: "null" }, rest] };
    }
    return out;
  }
  return node;
}

export function responseValidator(
  specName: "api.github.com" | "ghes-3.19" | "ghec",
  method: string,
  path: string,
  status: number,
): ValidateFunction {
  const { spec, ajv } = load(specName);
  const operation = spec.paths[path]?.[method.toLowerCase()];
  if (!operation) throw new Error(`${specName} has no ${method} ${path}`);
  let response = operation.responses[String(status)] as Record<string, unknown> | undefined;
  if (!response) throw new Error(`${specName} ${method} ${path} documents no ${status}`);
  const ref = response.$ref as string | undefined;
  if (ref) response = (spec.components.responses as Record<string, Record<string, unknown>>)[ref.split("/").pop() as string];
  const content = response?.content as Record<string, { schema?: unknown }> | undefined;
  const schema = content?.["application/json"]?.schema;
  if (!schema) throw new Error(`${specName} ${method} ${path} ${status} has no JSON schema`);
  return ajv.compile(normalize(schema) as object);
}

export function problems(validate: ValidateFunction, body: unknown): string[] {
  return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || "(root)"} ${e.message}`);
}
