import { z } from "zod";

/**
 * Turns zod issues into problems that name the field path, what is wrong with the value and
 * what would be accepted: `spec.scaling.replicas: 11 is too large (an integer from 0 to 10)`.
 * Every issue's `message` holds the accepted part (set by `acceptedText` or by the schema's own
 * `error` text); the wrong part is derived here from the issue and its input.
 */

export interface Problem {
  /** Dotted field path, array indices in brackets: spec.destination.columns[1].type. */
  readonly path: string;
  readonly wrong: string;
  readonly accepted: string;
}

/** Field names that look like credentials; they get a message pointing at Secret references. */
const CREDENTIAL_KEY = /pass(word)?|secret|token|credential|api_?key|access_?key|private_?key|connection_?string|service_?account/i;

export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === "object") return "an object";
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}..."` : text;
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
  object: "an object",
  array: "a list",
};

function boundText(issue: z.core.$ZodRawIssue<z.core.$ZodIssueTooBig | z.core.$ZodIssueTooSmall>): string {
  const isBig = issue.code === "too_big";
  const bound = Number(isBig ? issue.maximum : issue.minimum);
  const inclusive = issue.inclusive !== false;
  switch (issue.origin) {
    case "string":
      return isBig ? `at most ${bound} characters` : bound <= 1 ? "a non-empty string" : `at least ${bound} characters`;
    case "array":
    case "set":
      return isBig ? `at most ${bound} items` : `at least ${bound} item${bound === 1 ? "" : "s"}`;
    default:
      return `${isBig ? "at most" : "at least"} ${inclusive ? bound : `${isBig ? "below" : "above"} ${bound}`}`;
  }
}

/** The accepted part for issues the schema does not word itself. */
export function acceptedText(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type":
      return TYPE_NAMES[issue.expected] ?? issue.expected;
    case "invalid_value":
      return issue.values.length === 1
        ? String(issue.values[0])
        : `one of: ${issue.values.map((v) => String(v)).join(", ")}`;
    case "too_big":
    case "too_small":
      return boundText(issue);
    case "unrecognized_keys":
      return issue.inst instanceof z.ZodObject
        ? `known fields here: ${Object.keys(issue.inst.shape).join(", ")}`
        : "only the documented fields";
    case "invalid_union":
      return "one of the documented forms";
    case "invalid_format":
      return issue.format === "regex" ? `matching ${issue.pattern ?? "the documented pattern"}` : `a valid ${issue.format}`;
    default:
      return undefined;
  }
}

function wrongText(issue: z.core.$ZodIssue): string {
  const input = issue.input;
  if (input === undefined && issue.code !== "custom") return "is required";
  switch (issue.code) {
    case "invalid_type":
      return `${describeValue(input)} has the wrong type`;
    case "invalid_value":
      return `${describeValue(input)} is not an accepted value`;
    case "too_big":
      return `${describeValue(input)} is too ${issue.origin === "number" || issue.origin === "int" ? "large" : "long"}`;
    case "too_small":
      return `${describeValue(input)} is too ${issue.origin === "number" || issue.origin === "int" ? "small" : "short"}`;
    case "custom": {
      const wrong: unknown = issue.params?.["wrong"];
      return typeof wrong === "string" ? wrong : `${describeValue(input)} is not valid`;
    }
    default:
      return `${describeValue(input)} is not valid`;
  }
}

function unknownFieldProblems(issue: z.core.$ZodIssueUnrecognizedKeys, prefix: readonly PropertyKey[]): Problem[] {
  return issue.keys.map((key) => {
    const path = formatPath([...prefix, ...issue.path, key]);
    if (CREDENTIAL_KEY.test(key)) {
      return {
        path,
        wrong: "inline credentials are not allowed",
        accepted: "put them in a Secret and reference it with credentialsSecretRef: {name: <secret>}",
      };
    }
    return { path, wrong: "unknown field", accepted: issue.message };
  });
}

export function problemsFromIssues(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[] = [],
): Problem[] {
  return issues.flatMap((issue): Problem[] => {
    if (issue.code === "unrecognized_keys") return unknownFieldProblems(issue, prefix);
    return [{ path: formatPath([...prefix, ...issue.path]), wrong: wrongText(issue), accepted: issue.message }];
  });
}

export function formatProblem(problem: Problem): string {
  return `${problem.path === "" ? "(document)" : problem.path}: ${problem.wrong} (${problem.accepted})`;
}
