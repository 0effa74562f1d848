import { exchange } from "../probes.ts";

export interface KafkaBroker {
  nodeId: number;
  host: string;
  port: number;
}

/**
 * Kafka: a Metadata request (v4, still served by Kafka 4) must list at least one broker: the
 * broker has joined the KRaft quorum, registered, and serves clients.
 */
export async function pingKafka(host: string, port: number): Promise<KafkaBroker[]> {
  const clientId = Buffer.from("outrig-probe");
  const request = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length + 4 + 1);
  let o = 0;
  o = request.writeInt32BE(request.length - 4, o);
  o = request.writeInt16BE(3, o); // Metadata
  o = request.writeInt16BE(4, o);
  o = request.writeInt32BE(1, o);
  o = request.writeInt16BE(clientId.length, o);
  o += clientId.copy(request, o);
  o = request.writeInt32BE(-1, o); // all topics
  request.writeInt8(0, o); // allow_auto_topic_creation
  const brokers = await exchange(host, port, request, (buf) => {
    if (buf.length < 4 || buf.length < 4 + buf.readInt32BE(0)) return undefined;
    let at = 4 + 4 + 4; // size, correlation id, throttle time
    const count = buf.readInt32BE(at);
    at += 4;
    const list: KafkaBroker[] = [];
    for (let i = 0; i < count; i++) {
      const nodeId = buf.readInt32BE(at);
      const hostLength = buf.readInt16BE(at + 4);
      const brokerHost = buf.subarray(at + 6, at + 6 + hostLength).toString();
      at += 6 + hostLength;
      const brokerPort = buf.readInt32BE(at);
      const rackLength = buf.readInt16BE(at + 4);
      at += 6 + Math.max(rackLength, 0);
      list.push({ nodeId, host: brokerHost, port: brokerPort });
    }
    return list;
  });
  if (brokers.length === 0) throw new Error("kafka answered Metadata with no brokers yet");
  return brokers;
}
