import { exchange } from "../probes.ts";

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
