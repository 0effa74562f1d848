import { exchange } from "../probes.ts";

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
