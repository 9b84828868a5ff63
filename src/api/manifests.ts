import { readFile } from "node:fs/promises";
import { parseAllDocuments } from "yaml";
import { API_GROUP_VERSION, type ClickPipe, KIND, validateWith, ClickPipeSchema } from "./clickpipe.js";
import { type Problem, formatProblem } from "./problems.js";
import { secretReferences } from "./secrets.js";

/**
 * Multi-document manifest files as `clickpipes validate` and `clickpipes run` read them:
 * ClickPipe documents are validated, Secret documents are collected (so `run` can resolve
 * references and `validate` can check referenced keys), other kinds are ignored.
 */

/** Secret data by Secret name, then key; values decoded to UTF-8 text. */
export type SecretData = ReadonlyMap<string, ReadonlyMap<string, string>>;

export interface ManifestPipe {
  /** 1-based index of the document in the file. */
  readonly document: number;
  readonly pipe: ClickPipe;
}

export interface DocumentProblem {
  readonly document: number;
  readonly problem: Problem;
}

export interface LoadedManifests {
  readonly pipes: readonly ManifestPipe[];
  readonly secrets: SecretData;
  readonly problems: readonly DocumentProblem[];
}

type Document = Record<string, unknown>;

function isDocument(value: unknown): value is Document {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringMap(value: unknown): [string, string][] {
  if (!isDocument(value)) return [];
  return Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === "string");
}

/** A Secret's keys: `stringData` wins over base64 `data`, as the apiserver merges them. */
function secretEntries(doc: Document): [string, string][] {
  const data = stringMap(doc["data"]).map(([key, value]): [string, string] => [key, Buffer.from(value, "base64").toString("utf8")]);
  return [...data, ...stringMap(doc["stringData"])];
}

function secretName(doc: Document): string | undefined {
  const metadata = doc["metadata"];
  return isDocument(metadata) && typeof metadata["name"] === "string" ? metadata["name"] : undefined;
}

function missingSecretKeys(pipe: ClickPipe, secrets: SecretData): Problem[] {
  return secretReferences(pipe.spec).flatMap((reference): Problem[] => {
    const secret = secrets.get(reference.name);
    if (secret === undefined) return [];
    return reference.keys
      .filter((key) => !secret.has(key))
      .map((key) => ({
        path: reference.path,
        wrong: `Secret "${reference.name}" in this file has no key "${key}"`,
        accepted: `a Secret with keys ${reference.keys.join(", ")}`,
      }));
  });
}

interface Collected {
  pipes: { document: number; value: unknown }[];
  secrets: Map<string, Map<string, string>>;
  problems: DocumentProblem[];
}

function collectDocument(collected: Collected, document: number, value: unknown): void {
  if (value === null || value === undefined) return;
  if (!isDocument(value)) {
    collected.problems.push({ document, problem: { path: "", wrong: "is not a mapping", accepted: "a Kubernetes object" } });
    return;
  }
  if (value["kind"] === KIND || value["apiVersion"] === API_GROUP_VERSION) {
    collected.pipes.push({ document, value });
  } else if (value["kind"] === "Secret") {
    const name = secretName(value);
    if (name !== undefined) collected.secrets.set(name, new Map(secretEntries(value)));
  } else if (value["kind"] === undefined) {
    collected.problems.push({ document, problem: { path: "kind", wrong: "is required", accepted: `${KIND} or Secret` } });
  }
}

/** Parses and validates the text of a manifest file. */
export function loadManifests(text: string): LoadedManifests {
  const collected: Collected = { pipes: [], secrets: new Map(), problems: [] };
  // YAML 1.1 like kubectl (sigs.k8s.io/yaml), so `yes`/`on` read as booleans here too.
  parseAllDocuments(text, { version: "1.1" }).forEach((doc, i) => {
    const document = i + 1;
    if (doc.errors.length > 0) {
      for (const error of doc.errors) {
        collected.problems.push({ document, problem: { path: "", wrong: `is not valid YAML: ${error.message.split("\n")[0] ?? ""}`, accepted: "YAML" } });
      }
      return;
    }
    collectDocument(collected, document, doc.toJS());
  });
  const pipes: ManifestPipe[] = [];
  for (const candidate of collected.pipes) {
    const result = validateWith(ClickPipeSchema, candidate.value);
    const problems = result.ok ? missingSecretKeys(result.value, collected.secrets) : result.problems;
    for (const problem of problems) collected.problems.push({ document: candidate.document, problem });
    if (result.ok && problems.length === 0) pipes.push({ document: candidate.document, pipe: result.value });
  }
  collected.problems.sort((a, b) => a.document - b.document);
  return { pipes, secrets: collected.secrets, problems: collected.problems };
}

export async function loadManifestFile(file: string): Promise<LoadedManifests> {
  return loadManifests(await readFile(file, "utf8"));
}

/** One line per problem: `<file>:<document> <path>: <what is wrong> (<what is accepted>)`. */
export function formatDocumentProblem(file: string, problem: DocumentProblem): string {
  return `${file}:${problem.document} ${formatProblem(problem.problem)}`;
}

/** Lines `clickpipes validate` prints for a file; empty when the file holds valid ClickPipes only. */
export function validateManifestText(text: string, file: string): string[] {
  const loaded = loadManifests(text);
  const lines = loaded.problems.map((problem) => formatDocumentProblem(file, problem));
  if (lines.length === 0 && loaded.pipes.length === 0) {
    lines.push(`${file}: no ClickPipe document (apiVersion: ${API_GROUP_VERSION}, kind: ${KIND}) found`);
  }
  return lines;
}
