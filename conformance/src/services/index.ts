export type { ImageRecipe, ServiceImages, TestServiceDefinition } from "./definition.ts";
export { defineTestService, imageEnvVar } from "./definition.ts";
// Every service's folder (start function, handle and option types, definition), and the list.
export * from "./registry.ts";
export { removeTestContainers, resolveImage, TEST_CONTAINER_LABEL } from "./service.ts";
export { overrideFor, sharedServices } from "./shared.ts";
export type { TestCertificates } from "./tls.ts";
export { makeTestCertificates } from "./tls.ts";
export type { ServiceHandle, StartServiceOptions } from "./types.ts";
export { useService } from "./use-service.ts";
export type { ZipkinServer, ZipkinSpan } from "./zipkin.ts";
export { startZipkin } from "./zipkin.ts";
