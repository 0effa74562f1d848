import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { dirname } from "node:path";
import { styleText } from "node:util";

export type Colour = "green" | "cyan" | "magenta" | "yellow" | "blue" | "red";

/** Prefix colours, one pair per app of a run file so each app's lines stand out. */
export const COLOUR_PAIRS: readonly { app: Colour; sidecar: Colour }[] = [
  { app: "green", sidecar: "cyan" },
  { app: "yellow", sidecar: "blue" },
  { app: "magenta", sidecar: "cyan" },
  { app: "red", sidecar: "blue" },
];

/** Where one process's lines go: Dapr's run-file destinations. */
export type LogDestination = "console" | "file" | "fileAndConsole";

export interface LogOutputOptions {
  /** e.g. `== APP ==` or `== APP - orders ==`. */
  prefix: string;
  colour: Colour;
  destination: LogDestination;
  /** Required unless the destination is `console`. */
  filePath?: string;
  console?: NodeJS.WriteStream;
}

/**
 * Writes whole lines with a coloured prefix to the console and/or plainly to a log file. Child
 * output arrives in arbitrary chunks; a partial last line is held until its newline (or `end`)
 * so two processes' lines never interleave mid-line.
 */
export class LogOutput {
  private readonly prefix: string;
  private readonly colour: Colour;
  private readonly console: NodeJS.WriteStream | undefined;
  private readonly file: WriteStream | undefined;
  readonly filePath: string | undefined;
  private pending = "";

  constructor(options: LogOutputOptions) {
    this.prefix = options.prefix;
    this.colour = options.colour;
    this.console = options.destination === "file" ? undefined : (options.console ?? process.stdout);
    if (options.destination !== "console") {
      if (!options.filePath) throw new Error("a log file path is required");
      mkdirSync(dirname(options.filePath), { recursive: true });
      this.file = createWriteStream(options.filePath, { flags: "a" });
      this.filePath = options.filePath;
    }
  }

  /** Feeds raw output; complete lines are written now. */
  push(chunk: string | Buffer): void {
    const text = this.pending + chunk.toString();
    const lines = text.split(/\r?\n/);
    this.pending = lines.pop() ?? "";
    for (const line of lines) this.line(line);
  }

  line(text: string): void {
    if (this.console) {
      // styleText drops the colour itself when the stream is not a TTY or NO_COLOR is set.
      const prefix = styleText(this.colour, this.prefix, { stream: this.console });
      this.console.write(`${prefix} ${text}\n`);
    }
    this.file?.write(`${text}\n`);
  }

  /** Flushes a trailing partial line and closes the file. */
  end(): Promise<void> {
    if (this.pending) {
      this.line(this.pending);
      this.pending = "";
    }
    const file = this.file;
    if (!file) return Promise.resolve();
    return new Promise((resolveEnd) => file.end(resolveEnd));
  }
}
