/**
 * The AST of a ClickHouse column type, shared by the parser, the formatter, the coercer,
 * the DDL builder and the schema check, and the error a type string that cannot be read raises.
 */

export type IntBits = 8 | 16 | 32 | 64 | 128 | 256;

export interface EnumMember {
  readonly name: string;
  readonly value: number;
}

export interface TupleElement {
  /** Present for named tuples (`Tuple(a String, b UInt8)`). */
  readonly name?: string;
  readonly type: ChType;
}

export type ChType =
  | { readonly kind: "int"; readonly signed: boolean; readonly bits: IntBits }
  | { readonly kind: "float"; readonly bits: 32 | 64 }
  | { readonly kind: "bfloat16" }
  | { readonly kind: "decimal"; readonly precision: number; readonly scale: number }
  | { readonly kind: "bool" }
  | { readonly kind: "string" }
  | { readonly kind: "fixedString"; readonly length: number }
  | { readonly kind: "date" }
  | { readonly kind: "date32" }
  | { readonly kind: "dateTime"; readonly timezone?: string }
  | { readonly kind: "dateTime64"; readonly precision: number; readonly timezone?: string }
  | { readonly kind: "enum"; readonly bits: 8 | 16; readonly members: readonly EnumMember[] }
  | { readonly kind: "uuid" }
  | { readonly kind: "ipv4" }
  | { readonly kind: "ipv6" }
  | { readonly kind: "lowCardinality"; readonly inner: ChType }
  | { readonly kind: "nullable"; readonly inner: ChType }
  | { readonly kind: "array"; readonly element: ChType }
  | { readonly kind: "map"; readonly key: ChType; readonly value: ChType }
  | { readonly kind: "tuple"; readonly elements: readonly TupleElement[] }
  | { readonly kind: "json" }
  | { readonly kind: "dynamic" }
  | { readonly kind: "variant"; readonly variants: readonly ChType[] };

export type ChTypeKind = ChType["kind"];

export class ParseTypeError extends Error {
  override readonly name = "ParseTypeError";
  constructor(
    readonly text: string,
    readonly position: number,
    readonly reason: string,
  ) {
    super(`invalid ClickHouse type ${JSON.stringify(text)}: ${reason} (at position ${position})`);
  }
}
