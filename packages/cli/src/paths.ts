import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** Where outrig keeps its state: `OUTRIG_HOME`, else `~/.outrig` (Dapr's `~/.dapr`). */
export function outrigHome(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.OUTRIG_HOME;
  return override ? resolve(override) : join(homedir(), ".outrig");
}

export interface OutrigPaths {
  home: string;
  components: string;
  config: string;
  apps: string;
  stateDatabase: string;
}

export function outrigPaths(home: string = outrigHome()): OutrigPaths {
  return {
    home,
    components: join(home, "components"),
    config: join(home, "config.yaml"),
    apps: join(home, "apps"),
    stateDatabase: join(home, "state.db"),
  };
}
