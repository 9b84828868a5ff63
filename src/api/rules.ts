import type { z } from "zod";

/**
 * A cross-field rule written once and enforced twice: by the apiserver as an
 * `x-kubernetes-validations` CEL rule, and by zod (so `clickpipes validate` and the operator
 * report the same problem). `holds` must decide exactly what `cel` decides.
 */
export interface CrossFieldRule<T> {
  /** CEL expression with `self` bound to the object; true when the object is valid. */
  readonly cel: string;
  /** Field the problem is reported on, relative to the object. */
  readonly path: readonly string[];
  /** What is wrong, e.g. "is required when offset.strategy is from_timestamp". */
  readonly wrong: string;
  /** What would be accepted instead. */
  readonly accepted: string;
  /** The same decision as `cel`, in TypeScript. */
  readonly holds: (value: T) => boolean;
}

/** The CRD-side form of a rule: kube-apiserver's ValidationRule {rule, message}. */
export interface CelValidation {
  readonly rule: string;
  readonly message: string;
}

/** Kubernetes vendor extensions attached to a zod schema instance, read by the CRD generator. */
export type KubernetesExtensions = Readonly<Record<string, unknown>>;

const extensions = new WeakMap<object, KubernetesExtensions>();

export function kubernetesExtensionsOf(schema: object): KubernetesExtensions | undefined {
  return extensions.get(schema);
}

/**
 * Marks a list as a map keyed by `keys`: the apiserver then rejects duplicate keys (and merges
 * by key on apply), and the same uniqueness is checked here in zod.
 */
export function listMap<S extends z.ZodArray>(schema: S, keys: readonly string[]): S {
  const refined = schema.superRefine((items, ctx) => {
    const seen = new Set<string>();
    items.forEach((item, index) => {
      const id = JSON.stringify(keys.map((key) => valueAt(item, [key])));
      if (!seen.has(id)) {
        seen.add(id);
        return;
      }
      ctx.addIssue({
        code: "custom",
        path: [index, ...keys.slice(0, 1)],
        message: `each ${keys.join(" + ")} at most once in the list`,
        input: valueAt(item, keys.slice(0, 1)),
        params: { wrong: `duplicate ${keys.join(" + ")} ${id.slice(1, -1)}` },
      });
    });
  });
  extensions.set(refined, { "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": [...keys] });
  return refined;
}

export function ruleMessage(rule: Pick<CrossFieldRule<never>, "path" | "wrong" | "accepted">): string {
  const field = rule.path.length === 0 ? "" : `${rule.path.join(".")}: `;
  return `${field}${rule.wrong} (${rule.accepted})`;
}

function valueAt(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/**
 * Attaches rules to an object schema. Call it last (after `.describe()`): the CRD generator
 * finds the rules by schema instance, and every zod method returns a new instance.
 */
export function withRules<S extends z.ZodType>(schema: S, rules: readonly CrossFieldRule<z.output<S>>[]): S {
  const refined = schema.superRefine((value, ctx) => {
    for (const rule of rules) {
      if (rule.holds(value)) continue;
      ctx.addIssue({
        code: "custom",
        path: [...rule.path],
        message: rule.accepted,
        input: valueAt(value, rule.path),
        params: { wrong: rule.wrong },
      });
    }
  });
  const validations: CelValidation[] = rules.map((rule) => ({ rule: rule.cel, message: ruleMessage(rule) }));
  extensions.set(refined, { ...extensions.get(schema), "x-kubernetes-validations": validations });
  return refined;
}
