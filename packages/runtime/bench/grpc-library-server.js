// Child process of grpc-library.bench.ts: one gRPC server answering Dapr's GetState for one
// library. Modes: grpc-js | connect. Prints {"port": N}; answers "cpu" over IPC.
// Plain JavaScript, like servers.js, so no TypeScript stripper is loaded into the measured process.
import { createServer } from "node:http2";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as loader from "@grpc/proto-loader";

const require = createRequire(import.meta.url);
const protoRoot = join(dirname(require.resolve("@dapr/dapr/package.json")), "proto");
const VALUE = Buffer.from(JSON.stringify("x".repeat(1022)));
const ETAG = "1";
const mode = process.argv[2];

process.on("message", (msg) => {
  if (msg === "cpu") {
    const u = process.cpuUsage();
    process.send({ cpu: u.user + u.system });
  }
});

const definition = loader.loadSync("dapr/proto/runtime/v1/dapr.proto", {
  includeDirs: [protoRoot],
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});

if (mode === "grpc-js") {
  const service = grpc.loadPackageDefinition(definition).dapr.proto.runtime.v1.Dapr.service;
  const server = new grpc.Server();
  server.addService(service, {
    getState: (_call, callback) => callback(null, { data: VALUE, etag: ETAG, metadata: {} }),
  });
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) => {
    if (error) throw error;
    process.stdout.write(`${JSON.stringify({ port })}\n`);
  });
} else {
  const { create, createFileRegistry, fromBinary } = await import("@bufbuild/protobuf");
  const { FileDescriptorProtoSchema, FileDescriptorSetSchema } = await import(
    "@bufbuild/protobuf/wkt"
  );
  const { connectNodeAdapter } = await import("@connectrpc/connect-node");
  const files = new Map();
  for (const entry of Object.values(definition)) {
    for (const bytes of entry.fileDescriptorProtos ?? []) {
      const file = fromBinary(FileDescriptorProtoSchema, bytes);
      files.set(file.name, file);
    }
  }
  // ... and its type names are relative: make them fully qualified as protoc writes them.
  const known = new Set();
  const collect = (prefix, messages, enums) => {
    for (const e of enums) known.add(`${prefix}.${e.name}`);
    for (const m of messages) {
      known.add(`${prefix}.${m.name}`);
      collect(`${prefix}.${m.name}`, m.nestedType, m.enumType);
    }
  };
  for (const file of files.values()) collect(`.${file.package}`, file.messageType, file.enumType);
  const qualify = (scope, name) => {
    if (name.startsWith(".")) return name;
    for (let s = scope; ; s = s.slice(0, s.lastIndexOf("."))) {
      if (known.has(`${s}.${name}`)) return `${s}.${name}`;
      if (!s) throw new Error(`cannot resolve ${name} in ${scope}`);
    }
  };
  const fix = (scope, messages) => {
    for (const m of messages) {
      for (const f of m.field)
        if (f.typeName) f.typeName = qualify(`${scope}.${m.name}`, f.typeName);
      fix(`${scope}.${m.name}`, m.nestedType);
    }
  };
  for (const file of files.values()) {
    fix(`.${file.package}`, file.messageType);
    for (const svc of file.service)
      for (const m of svc.method) {
        m.inputType = qualify(`.${file.package}`, m.inputType);
        m.outputType = qualify(`.${file.package}`, m.outputType);
      }
  }
  // proto-loader merges each package into one file without imports: restore them from the
  // type names each file refers to, so the registry can resolve cross-package types.
  for (const file of files.values()) {
    const text = JSON.stringify(file.messageType) + JSON.stringify(file.service);
    file.dependency = [...files.values()]
      .filter((other) => other !== file && text.includes(`".${other.package}.`))
      .map((other) => other.name);
  }
  const ordered = [];
  const visit = (file) => {
    if (ordered.includes(file)) return;
    for (const dep of file.dependency) visit(files.get(dep));
    ordered.push(file);
  };
  for (const file of files.values()) visit(file);
  const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: ordered }));
  const dapr = registry.getService("dapr.proto.runtime.v1.Dapr");
  const handler = connectNodeAdapter({
    grpc: true,
    grpcWeb: false,
    connect: false,
    routes: (router) =>
      router.service(dapr, {
        getState: () => ({ data: VALUE, etag: ETAG, metadata: {} }),
      }),
  });
  const server = createServer(handler);
  server.listen(0, "127.0.0.1", () => {
    process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
  });
}
