import { describe, expect, it } from "vitest";
import { startKafka, startRedis } from "../src/services/index.ts";

// Runs in its own worker (vitest isolates files), so pointing DOCKER_HOST at nothing here does
// not affect the tests that start real containers.
describe("without a container engine or an override", () => {
  it("starting a service fails with a message that says how to provide one", async () => {
    process.env.DOCKER_HOST = "unix:///nonexistent/outrig-test.sock";
    delete process.env.OUTRIG_TEST_REDIS_URL;
    delete process.env.OUTRIG_TEST_KAFKA_BROKERS;
    const failure = startRedis().then(
      () => new Error("startRedis() resolved without a container engine"),
      (error: unknown) => error,
    );
    const error = await failure;
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toMatch(/^cannot start redis: no container engine answered/);
    expect(message).toContain("conformance/scripts/services-up.sh");
    expect(message).toContain("pnpm conformance:images");
    expect(message).toContain("DOCKER_HOST");
    expect(message).toContain("OUTRIG_TEST_REDIS_URL");
    await expect(startKafka()).rejects.toThrow(/OUTRIG_TEST_KAFKA_BROKERS/);
  });
});
