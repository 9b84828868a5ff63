import { describe, expect, it } from "vitest";
import { ordinalOfPodName, replicaOf } from "./config.js";

describe("replicaOf", () => {
  it("is the only replica when nothing is set", () => {
    expect(replicaOf({})).toEqual({ index: 0, count: 1 });
  });

  it("reads the index and count a StatefulSet pod gets from the operator", () => {
    expect(replicaOf({ CLICKPIPES_REPLICAS: "3", CLICKPIPES_REPLICA_INDEX: "2", POD_NAME: "clicks-2" })).toEqual({ index: 2, count: 3 });
  });

  it("falls back to the ordinal in POD_NAME when the pod-index label is missing (empty index)", () => {
    expect(replicaOf({ CLICKPIPES_REPLICAS: "2", CLICKPIPES_REPLICA_INDEX: "", POD_NAME: "clicks-1" })).toEqual({ index: 1, count: 2 });
    expect(replicaOf({ CLICKPIPES_REPLICAS: "1", CLICKPIPES_REPLICA_INDEX: "", POD_NAME: "clicks-0" })).toEqual({ index: 0, count: 1 });
  });

  it("rejects a pod name without an ordinal inside the count, naming both variables", () => {
    expect(() => replicaOf({ CLICKPIPES_REPLICAS: "2", CLICKPIPES_REPLICA_INDEX: "", POD_NAME: "clicks-7d9f-abcde" })).toThrow(/POD_NAME="clicks-7d9f-abcde" ends in no ordinal from 0 to 1/);
    expect(() => replicaOf({ CLICKPIPES_REPLICAS: "2", POD_NAME: "clicks-2" })).toThrow(/CLICKPIPES_REPLICA_INDEX is empty/);
  });

  it("rejects a count below 1 and an index outside [0, count)", () => {
    expect(() => replicaOf({ CLICKPIPES_REPLICAS: "0" })).toThrow(/CLICKPIPES_REPLICAS="0" is not a replica count/);
    expect(() => replicaOf({ CLICKPIPES_REPLICAS: "2", CLICKPIPES_REPLICA_INDEX: "2" })).toThrow(/use an integer from 0 to 1/);
    expect(() => replicaOf({ CLICKPIPES_REPLICAS: "2", CLICKPIPES_REPLICA_INDEX: "x" })).toThrow(/CLICKPIPES_REPLICA_INDEX="x"/);
  });
});

describe("ordinalOfPodName", () => {
  it("takes the number after the last dash", () => {
    expect(ordinalOfPodName("my-pipe-12")).toBe(12);
    expect(ordinalOfPodName("my-pipe")).toBeUndefined();
  });
});
