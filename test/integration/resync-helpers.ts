/** The resync id the operator puts on a consumer's copy of the pipe, set on a `clickpipes run` file (its first document). */
import { readFileSync, writeFileSync } from "node:fs";
import { parseAllDocuments, stringify } from "yaml";

export function withResyncId(file: string, id: string): string {
  const docs = parseAllDocuments(readFileSync(file, "utf8")).map((d) => d.toJS() as { metadata: { annotations?: Record<string, string> } });
  const pipe = docs[0];
  if (pipe === undefined) throw new Error(`${file} has no document`);
  pipe.metadata.annotations = { ...pipe.metadata.annotations, "clickpipes.io/resync-id": id };
  writeFileSync(file, docs.map((d) => stringify(d)).join("---\n"));
  return file;
}
