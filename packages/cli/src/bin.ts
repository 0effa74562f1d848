#!/usr/bin/env node
import { main } from "./cli.ts";

// Servers and child pipes may still hold the event loop; the command's result is final.
process.exit(await main(process.argv));
