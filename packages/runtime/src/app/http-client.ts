import {
  Agent,
  type AgentOptions,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
} from "node:http";
import { Agent as TlsAgent, request as tlsRequest } from "node:https";

/**
 * A keep-alive connection pool to one HTTP origin. Built on node:http's client so the process
 * keeps one (native) HTTP parser: a second client library would load its own parser.
 */
export class HttpTarget {
  readonly host: string;
  readonly port: number;
  readonly agent: Agent;
  readonly tls: boolean;

  /**
   * `tls` for an https origin (external HTTPEndpoints), with the endpoint's CA and client
   * certificate when it names them; apps are spoken to in plain HTTP.
   */
  constructor(
    host: string,
    port: number,
    maxSockets = 128,
    tls = false,
    tlsOptions: { ca?: string; cert?: string; key?: string } = {},
  ) {
    this.host = host;
    this.port = port;
    this.tls = tls;
    const Pool = tls ? TlsAgent : Agent;
    this.agent = new Pool({
      keepAlive: true,
      maxSockets,
      maxFreeSockets: maxSockets,
      scheduling: "lifo",
      // A proxied request is written in pieces; none may wait for a delayed ACK (Nagle).
      noDelay: true,
      ...(tls ? tlsOptions : {}),
    } as AgentOptions);
  }

  /** Starts a request; the caller writes the body and reads the response. */
  open(
    method: string,
    path: string,
    headers: Record<string, string | string[]>,
    timeoutMs?: number,
    signal?: AbortSignal,
  ): { req: ReturnType<typeof request>; response: Promise<IncomingMessage> } {
    const req = (this.tls ? tlsRequest : request)({
      host: this.host,
      port: this.port,
      method,
      path,
      headers,
      agent: this.agent,
      ...(timeoutMs ? { timeout: timeoutMs } : {}),
      ...(signal ? { signal } : {}),
    });
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      req.once("response", resolve);
      req.once("error", reject);
      req.once("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs}ms`)));
    });
    return { req, response };
  }

  /** One buffered call. */
  async call(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: string | Buffer,
    timeoutMs?: number,
    signal?: AbortSignal,
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
    const h = { ...headers };
    if (body !== undefined) h["content-length"] = String(Buffer.byteLength(body));
    const { req, response } = this.open(method, path, h, timeoutMs, signal);
    req.end(body);
    const res = await response;
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    return {
      status: res.statusCode ?? 0,
      headers: res.headers,
      body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks),
    };
  }

  close(): void {
    this.agent.destroy();
  }
}
