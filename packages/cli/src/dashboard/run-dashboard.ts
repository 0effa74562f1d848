import { isIP } from "node:net";
import { CliError } from "../errors.ts";
import { outrigPaths } from "../paths.ts";
import { AppRegistry } from "../registry.ts";
import { consoleStatus } from "../status.ts";
import { startDashboard } from "./server.ts";

export interface DashboardFlags {
  port: number;
  address: string;
  kubernetes?: boolean;
  namespace?: string;
}

/** Dapr's rule for `--address`: an IP address or `localhost` (which means 127.0.0.1 here). */
export function listenAddress(address: string): string {
  if (address === "localhost") return "127.0.0.1";
  if (isIP(address) === 0) {
    throw new CliError(
      `--address: ${JSON.stringify(address)} is not an IP address or localhost (as with dapr dashboard, only those are accepted)`,
    );
  }
  return address;
}

/** `outrig dashboard`: serves the page until SIGINT or SIGTERM; resolves with the exit code. */
export async function runDashboard(flags: DashboardFlags): Promise<number> {
  if (flags.kubernetes) {
    throw new CliError("--kubernetes: not supported: outrig runs apps locally only");
  }
  if (flags.namespace !== undefined) {
    throw new CliError("--namespace: not supported: it names a Kubernetes namespace");
  }
  const host = listenAddress(flags.address);
  const dashboard = await startDashboard({
    host,
    port: flags.port,
    registry: new AppRegistry(outrigPaths().apps),
  }).catch((error: NodeJS.ErrnoException) => {
    throw new CliError(
      error.code === "EADDRINUSE"
        ? `--port: ${flags.port} is in use on ${host}; pick another with --port`
        : `the dashboard cannot listen on ${host}:${flags.port}: ${error.message}`,
    );
  });
  consoleStatus.success(`outrig dashboard running on ${dashboard.url}`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const stop = (received: NodeJS.Signals) => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve(received);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  consoleStatus.info(`${signal} received: stopping the dashboard`);
  await dashboard.close();
  return 0;
}
