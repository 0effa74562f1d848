import { createConnection } from "node:net";

/**
 * Readiness probes that speak each service's own protocol over one TCP connection, so "ready"
 * means the service answers requests, not merely that its port is open. Written against the
 * wire formats directly to keep client libraries out of the conformance package's dependencies.
 */

const PROBE_TIMEOUT_MS = 5_000;

/** Sends `request`, then feeds the bytes received so far to `read` until it returns a result. */
function exchange<T>(
  host: string,
  port: number,
  request: Buffer,
  read: (received: Buffer, socket: { write(data: Buffer): void }) => T | undefined,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let received = Buffer.alloc(0);
    let settled = false;
    const socket = createConnection({ host, port });
    const finish = (error: Error | undefined, value?: T) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(value as T);
    };
    const timer = setTimeout(
      () => finish(new Error(`no answer from ${host}:${port} within ${PROBE_TIMEOUT_MS} ms`)),
      PROBE_TIMEOUT_MS,
    );
    socket.on("connect", () => socket.write(request));
    socket.on("data", (chunk) => {
      received = Buffer.concat([received, chunk]);
      try {
        const value = read(received, socket);
        if (value !== undefined) finish(undefined, value);
      } catch (error) {
        finish(error instanceof Error ? error : new Error(String(error)));
      }
    });
    socket.on("error", (error) => finish(error));
    socket.on("close", () => finish(new Error(`${host}:${port} closed the connection`)));
  });
}

function respCommand(...args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;
}

/**
 * Redis: `PING` answers `+PONG` (a loading or busy server answers an error); with a password,
 * `AUTH` first (answers `+OK`).
 */
export async function pingRedis(host: string, port: number, password?: string): Promise<void> {
  const auth = password ? respCommand("AUTH", password) : "";
  await exchange(host, port, Buffer.from(auth + respCommand("PING")), (buf) => {
    const lines = buf.toString().split("\r\n");
    const wanted = password ? 2 : 1;
    if (lines.length <= wanted) return undefined;
    const answers = lines.slice(0, wanted).join(" ");
    if (answers !== (password ? "+OK +PONG" : "+PONG"))
      throw new Error(`redis answered ${JSON.stringify(answers.slice(0, 200))} to PING`);
    return true;
  });
}

/**
 * PostgreSQL: what `pg_isready` checks. A server that accepts connections answers a startup
 * message with an authentication request (or AuthenticationOk); one still starting or shutting
 * down answers an ErrorResponse.
 */
export async function pingPostgres(
  host: string,
  port: number,
  user: string,
  database: string,
): Promise<void> {
  const params = Buffer.from(`user\0${user}\0database\0${database}\0\0`);
  const startup = Buffer.alloc(8);
  startup.writeInt32BE(8 + params.length, 0);
  startup.writeInt32BE(196608, 4); // protocol 3.0
  await exchange(host, port, Buffer.concat([startup, params]), (buf) => {
    if (buf.length < 5) return undefined;
    const type = String.fromCharCode(buf[0]!);
    if (type === "R") return true;
    const length = buf.readInt32BE(1);
    if (buf.length < 1 + length) return undefined;
    if (type === "E") {
      const fields = buf
        .subarray(5, 1 + length)
        .toString()
        .split("\0");
      const message = fields.find((f) => f.startsWith("M"))?.slice(1) ?? "error";
      throw new Error(`postgres is not ready: ${message}`);
    }
    throw new Error(`postgres answered an unexpected message ${JSON.stringify(type)}`);
  });
}

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

/** DynamoDB: `ListTables` answers 200 with a `TableNames` list. */
export async function pingDynamoDB(endpoint: string, region: string): Promise<void> {
  const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, "");
  const response = await fetch(endpoint, {
    method: "POST",
    signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    headers: {
      "content-type": "application/x-amz-json-1.0",
      "x-amz-target": "DynamoDB_20120810.ListTables",
      "x-amz-date": date,
      // Emulators check the shape of the signature, not its value.
      authorization: `AWS4-HMAC-SHA256 Credential=outrig/${date.slice(0, 8)}/${region}/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=${"0".repeat(64)}`,
    },
    body: "{}",
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`dynamodb ListTables answered ${response.status}: ${text}`);
  const body = JSON.parse(text) as { TableNames?: unknown };
  if (!Array.isArray(body.TableNames)) throw new Error(`dynamodb ListTables answered ${text}`);
}

/** MQTT: a 3.1.1 CONNECT with a clean session is accepted (CONNACK return code 0). */
export async function pingMqtt(host: string, port: number): Promise<void> {
  const clientId = Buffer.from(`outrig-probe-${process.pid}-${Date.now()}`);
  const variable = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 30]);
  const payload = Buffer.concat([
    Buffer.from([clientId.length >> 8, clientId.length & 0xff]),
    clientId,
  ]);
  const remaining = variable.length + payload.length; // < 128: one length byte
  const connect = Buffer.concat([Buffer.from([0x10, remaining]), variable, payload]);
  await exchange(host, port, connect, (buf, socket) => {
    if (buf.length < 4) return undefined;
    if (buf[0] !== 0x20)
      throw new Error(`mqtt answered packet type 0x${buf[0]!.toString(16)} to CONNECT`);
    if (buf[3] !== 0)
      throw new Error(`mqtt refused the connection (CONNACK return code ${buf[3]})`);
    socket.write(Buffer.from([0xe0, 0]));
    return true;
  });
}

/** Retries `probe` until it resolves or `timeoutMs` passes; the last failure is the cause. */
export async function waitUntilReady<T>(
  what: string,
  probe: () => Promise<T>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      return await probe();
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${what} did not become ready within ${timeoutMs} ms: ${lastError instanceof Error ? lastError.message : String(lastError)}`,
        { cause: lastError },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
