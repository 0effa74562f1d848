import { exchange } from "../probes.ts";

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
