// Generates the gRPC API's TypeScript types from the .proto files the pinned @dapr/dapr ships
// (plus google.rpc.Status and ErrorInfo for rich errors, and the durabletask worker protocol,
// TaskHubSidecarService, from the @dapr/durabletask-js that @dapr/dapr depends on), with grpc-node's own generator
// (proto-loader-gen-types). The durabletask file gets the methods newer SDKs call spliced in
// (scripts/durabletask-additions.ts). Output is gitignored, made at build/test time:
//   proto/           the .proto files the server loads at run time (shipped in the package)
//   src/grpc/generated/  type-only TypeScript for those messages and services
// Run: pnpm --filter @outrig/runtime generate:grpc (turbo runs it before typecheck/test/build).
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { withAdditions } from "./durabletask-additions.ts";

const pkg = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(pkg, "package.json"));
const daprProtos = join(dirname(require.resolve("@dapr/dapr/package.json")), "proto");
const googleProtos = dirname(require.resolve("google-proto-files/package.json"));
// Resolved through @dapr/dapr: the durabletask version its workflow worker speaks.
const durabletaskProtos = join(
  dirname(
    createRequire(require.resolve("@dapr/dapr/package.json")).resolve(
      "@dapr/durabletask-js/package.json",
    ),
  ),
  "proto",
);
const protoOut = join(pkg, "proto");
const tsOut = join(pkg, "src", "grpc", "generated");

rmSync(protoOut, { recursive: true, force: true });
rmSync(tsOut, { recursive: true, force: true });
for (const dir of ["dapr/proto/runtime/v1", "dapr/proto/common/v1"]) {
  mkdirSync(join(protoOut, dir), { recursive: true });
  for (const f of readdirSync(join(daprProtos, dir)).filter((f) => f.endsWith(".proto")))
    cpSync(join(daprProtos, dir, f), join(protoOut, dir, f));
}
mkdirSync(join(protoOut, "google/rpc"), { recursive: true });
for (const f of ["status.proto", "error_details.proto"])
  cpSync(join(googleProtos, "google/rpc", f), join(protoOut, "google/rpc", f));
mkdirSync(join(protoOut, "durabletask"), { recursive: true });
writeFileSync(
  join(protoOut, "durabletask/orchestrator_service.proto"),
  withAdditions(readFileSync(join(durabletaskProtos, "orchestrator_service.proto"), "utf8")),
);

execFileSync(
  process.execPath,
  [
    require.resolve("@grpc/proto-loader/build/bin/proto-loader-gen-types.js"),
    "--grpcLib=@grpc/grpc-js",
    "--longs=String",
    "--enums=String",
    "--defaults",
    "--oneofs",
    `-I=${protoOut}`,
    `-O=${tsOut}`,
    "dapr/proto/runtime/v1/dapr.proto",
    "dapr/proto/runtime/v1/appcallback.proto",
    "google/rpc/status.proto",
    "google/rpc/error_details.proto",
    "durabletask/orchestrator_service.proto",
  ],
  { stdio: "inherit" },
);

// The generator writes extensionless relative imports; this package resolves them as ESM (.ts).
const addExtensions = (dir: string): void => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) addExtensions(path);
    else if (entry.name.endsWith(".ts"))
      writeFileSync(
        path,
        readFileSync(path, "utf8").replace(/from '(\.\.?\/[^']+)'/g, "from '$1.ts'"),
      );
  }
};
addExtensions(tsOut);
