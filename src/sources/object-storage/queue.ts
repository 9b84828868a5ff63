/**
 * The SQS queue of an any-order pipe (spec.source.objectStorage.queueUrl), through
 * @aws-sdk/client-sqs with the bucket's credentials: long-polled receives, the message's
 * visibility kept while its files go in (so a slow file is not handed to another consumer),
 * and the delete once they are committed. The queue's own VisibilityTimeout decides how soon
 * a message comes back after a consumer died holding it.
 */
import { errorMessage } from "../../ingest/errors.js";
import type { Logger } from "../../ingest/logger.js";
import type { AwsCredentials } from "../aws-credentials.js";
import { loadOnce } from "../lazy.js";
import { sourceError } from "./store.js";

export interface QueueMessage {
  readonly body: string;
  readonly receipt: string;
  readonly id: string;
}

export interface EventQueue {
  /** Up to 10 messages, waiting at most `waitSeconds` for the first. */
  receive(waitSeconds: number, signal: AbortSignal): Promise<QueueMessage[]>;
  /** Keeps `receipt` invisible to other consumers until `release` is called. */
  hold(receipt: string): () => void;
  delete(receipt: string): Promise<void>;
  close(): void;
}

/** The region of an AWS queue URL (`https://sqs.<region>.amazonaws.com/...`), else `fallback`. */
export function queueRegion(queueUrl: string, fallback: string): string {
  return /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com\//.exec(queueUrl)?.[1] ?? fallback;
}

export function sqsQueue(queueUrl: string, region: string, credentials: (() => Promise<AwsCredentials>) | undefined, logger: Logger): EventQueue {
  const custom = !/\.amazonaws\.com\//.test(queueUrl);
  // The SDK loads on first use: the registry imports every plugin, and most pipes have no queue.
  const sdk = loadOnce(async () => {
    const m = await import("@aws-sdk/client-sqs");
    const client = new m.SQSClient({
      region,
      // An SQS-compatible server (ElasticMQ here) is addressed at the queue URL's origin.
      ...(custom ? { endpoint: new URL(queueUrl).origin } : {}),
      ...(credentials === undefined ? {} : { credentials }),
    });
    return { m, client };
  });
  let visibility: Promise<number> | undefined;
  const visibilitySeconds = (): Promise<number> => {
    visibility ??= sdk
      .get()
      .then(({ m, client }) => client.send(new m.GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["VisibilityTimeout"] })))
      .then((r) => Number(r.Attributes?.VisibilityTimeout ?? 30))
      .catch((err: unknown) => {
        visibility = undefined;
        throw sourceError("reading the queue's VisibilityTimeout", err, { queueUrl });
      });
    return visibility;
  };
  return {
    async receive(waitSeconds, signal) {
      await visibilitySeconds();
      try {
        const { m, client } = await sdk.get();
        const out = await client.send(new m.ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: Math.max(0, Math.min(20, Math.round(waitSeconds))) }), { abortSignal: signal });
        return (out.Messages ?? []).flatMap((m) => (m.ReceiptHandle === undefined ? [] : [{ body: m.Body ?? "", receipt: m.ReceiptHandle, id: m.MessageId ?? "" }]));
      } catch (err) {
        if (signal.aborted) return [];
        throw sourceError("receiving from the SQS queue", err, { queueUrl });
      }
    },
    hold(receipt) {
      let timer: NodeJS.Timeout | undefined;
      let released = false;
      const extend = (seconds: number): void => {
        sdk
          .get()
          .then(({ m, client }) => client.send(new m.ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: receipt, VisibilityTimeout: seconds })))
          .catch((err: unknown) => {
          // Retried on the next tick; at worst the message comes back and its finished files are ignored (files table).
          logger.warn({ err: errorMessage(err) }, "could not extend an SQS message's visibility");
        });
      };
      visibilitySeconds().then(
        (seconds) => {
          if (!released) timer = setInterval(() => extend(seconds), Math.max(1, seconds / 2) * 1000);
        },
        // receive() read the timeout first, so this fails only if that cache was dropped; the message then just is not extended.
        (err: unknown) => logger.warn({ err: errorMessage(err) }, "could not read the queue's VisibilityTimeout"),
      );
      return () => {
        released = true;
        clearInterval(timer);
      };
    },
    async delete(receipt) {
      try {
        const { m, client } = await sdk.get();
        await client.send(new m.DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receipt }));
      } catch (err) {
        throw sourceError("deleting a handled message from the SQS queue", err, { queueUrl });
      }
    },
    close: () => sdk.loaded()?.client.destroy(),
  };
}
