/** The stream of a topic partition, as positions and state rows name it. */
export function kafkaStream(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

/** `topic/partition` back to its parts (topic names cannot hold '/'). */
export function parseKafkaStream(stream: string): { topic: string; partition: number } {
  const at = stream.lastIndexOf("/");
  return { topic: stream.slice(0, at), partition: Number(stream.slice(at + 1)) };
}
