import { exchange } from "../probes.ts";

interface AmqpFrame {
  type: number;
  classId: number;
  methodId: number;
  payload: Buffer;
}

function readAmqpFrames(buf: Buffer): { frames: AmqpFrame[]; used: number } {
  const frames: AmqpFrame[] = [];
  let offset = 0;
  while (buf.length - offset >= 7) {
    const size = buf.readUInt32BE(offset + 3);
    if (buf.length - offset < 8 + size) break;
    const payload = buf.subarray(offset + 7, offset + 7 + size);
    const type = buf[offset]!;
    frames.push({
      type,
      classId: type === 1 ? payload.readUInt16BE(0) : 0,
      methodId: type === 1 ? payload.readUInt16BE(2) : 0,
      payload,
    });
    offset += 8 + size;
  }
  return { frames, used: offset };
}

function amqpMethodFrame(classId: number, methodId: number, args: Buffer): Buffer {
  const header = Buffer.alloc(11);
  header.writeUInt8(1, 0);
  header.writeUInt16BE(0, 1);
  header.writeUInt32BE(4 + args.length, 3);
  header.writeUInt16BE(classId, 7);
  header.writeUInt16BE(methodId, 9);
  return Buffer.concat([header, args, Buffer.from([0xce])]);
}

function shortString(value: string): Buffer {
  const bytes = Buffer.from(value);
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}

function longString(value: string): Buffer {
  const bytes = Buffer.from(value);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function fieldTable(entries: Buffer[]): Buffer {
  const body = Buffer.concat(entries);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}

/** Asks RabbitMQ to say why a login failed (Connection.Close) instead of just closing the socket. */
const AMQP_CLIENT_PROPERTIES = fieldTable([
  shortString("capabilities"),
  Buffer.from("F"),
  fieldTable([shortString("authentication_failure_close"), Buffer.from("t"), Buffer.from([1])]),
]);

/**
 * RabbitMQ: a full AMQP 0-9-1 connection handshake with PLAIN credentials up to
 * Connection.Open-Ok on vhost `/`, so a broker that refuses the login (e.g. `guest` limited to
 * loopback) is not taken for ready.
 */
export async function pingAmqp(
  host: string,
  port: number,
  user: string,
  password: string,
): Promise<void> {
  let consumed = 0;
  await exchange(host, port, Buffer.from("AMQP\x00\x00\x09\x01", "latin1"), (buf, socket) => {
    const { frames, used } = readAmqpFrames(buf.subarray(consumed));
    consumed += used;
    for (const frame of frames) {
      const method = `${frame.classId}.${frame.methodId}`;
      if (method === "10.10") {
        const startOk = Buffer.concat([
          AMQP_CLIENT_PROPERTIES,
          shortString("PLAIN"),
          longString(`\0${user}\0${password}`),
          shortString("en_US"),
        ]);
        socket.write(amqpMethodFrame(10, 11, startOk));
      } else if (method === "10.30") {
        const tuneOk = Buffer.alloc(8);
        tuneOk.writeUInt16BE(frame.payload.readUInt16BE(4), 0);
        tuneOk.writeUInt32BE(frame.payload.readUInt32BE(6), 2);
        tuneOk.writeUInt16BE(0, 6);
        socket.write(amqpMethodFrame(10, 31, tuneOk));
        socket.write(
          amqpMethodFrame(
            10,
            40,
            Buffer.concat([shortString("/"), shortString(""), Buffer.from([0])]),
          ),
        );
      } else if (method === "10.41") {
        return true;
      } else if (method === "10.50") {
        const code = frame.payload.readUInt16BE(4);
        const text = frame.payload.subarray(7, 7 + frame.payload[6]!).toString();
        throw new Error(`rabbitmq closed the connection: ${code} ${text}`);
      }
    }
    return undefined;
  });
}
