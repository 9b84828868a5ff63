import type { Checkpoint, RawRecord, RecordSink } from "../../src/ingest/source.js";

/** A sink that keeps what a source hands over, in order: the core's view of a delivery. */
export class RecordingSink implements RecordSink {
  readonly records: RawRecord[] = [];
  readonly progress: Checkpoint[] = [];

  onRecords(records: readonly RawRecord[]): Promise<void> {
    this.records.push(...records);
    return Promise.resolve();
  }

  onProgress(checkpoints: readonly Checkpoint[]): Promise<void> {
    this.progress.push(...checkpoints);
    return Promise.resolve();
  }

  onReset(): void {}

  onPhase(): void {}

  onEnd(): Promise<void> {
    return Promise.resolve();
  }
}
