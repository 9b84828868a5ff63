/**
 * Condition types and reasons the operator writes on ClickPipe status. Reasons are CamelCase
 * constants (metav1.Condition requires `^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$`) kept in
 * this one file so dashboards and alerts can rely on them.
 */

export const ConditionType = {
  /** The pipe does what its spec says: consumers ready and ingesting (or stopped on request). */
  Ready: "Ready",
  /** The operator or consumers reached the source with the configured credentials. */
  SourceReachable: "SourceReachable",
  /** The ClickHouse endpoint answered and the destination table matches the spec. */
  DestinationReachable: "DestinationReachable",
  /** A rollout, snapshot or catch-up is under way. */
  Progressing: "Progressing",
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];
export const CONDITION_TYPES = Object.values(ConditionType);

export const ConditionStatus = { True: "True", False: "False", Unknown: "Unknown" } as const;
export type ConditionStatus = (typeof ConditionStatus)[keyof typeof ConditionStatus];
export const CONDITION_STATUSES = Object.values(ConditionStatus);

export const ConditionReason = {
  Reconciled: "Reconciled",
  Reconciling: "Reconciling",
  InvalidSpec: "InvalidSpec",
  SecretNotFound: "SecretNotFound",
  SecretKeyMissing: "SecretKeyMissing",
  SourceNotSupported: "SourceNotSupported",
  Stopped: "Stopped",
  Deleting: "Deleting",
  ConsumersNotReady: "ConsumersNotReady",
  ConsumersReady: "ConsumersReady",
  ScaledToZero: "ScaledToZero",
  RolloutInProgress: "RolloutInProgress",
  SnapshotInProgress: "SnapshotInProgress",
  Completed: "Completed",
  SourceReachable: "SourceReachable",
  SourceUnreachable: "SourceUnreachable",
  SourceAuthenticationFailed: "SourceAuthenticationFailed",
  /** The source answers but is not set up for the pipe (MySQL binlog_format not ROW...); the message says what to change. */
  SourceNotConfigured: "SourceNotConfigured",
  /** The source answers, but a CDC replication slot holds more WAL than the threshold: the source's disk is filling. */
  SlotRetainedWalHigh: "SlotRetainedWalHigh",
  /** spec.scaling.replicas is above what the source can use (a CDC slot has one reader): the consumers run at the cap. */
  ReplicasCapped: "ReplicasCapped",
  TopicNotFound: "TopicNotFound",
  DestinationReachable: "DestinationReachable",
  DestinationUnreachable: "DestinationUnreachable",
  DestinationAuthenticationFailed: "DestinationAuthenticationFailed",
  DatabaseNotFound: "DatabaseNotFound",
  TableNotFound: "TableNotFound",
  SchemaMismatch: "SchemaMismatch",
  TableCreated: "TableCreated",
  TableReady: "TableReady",
  UserSetupFailed: "UserSetupFailed",
  SourceUnreachableTimeout: "SourceUnreachableTimeout",
  DestinationUnreachableTimeout: "DestinationUnreachableTimeout",
  InternalError: "InternalError",
} as const;
export type ConditionReason = (typeof ConditionReason)[keyof typeof ConditionReason];
