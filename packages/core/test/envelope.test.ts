import { createCipheriv, createHmac, hkdfSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sealWith } from "../src/envelope.ts";
import {
  ENVELOPE_SCHEME,
  EnvelopeError,
  type KeyWrapAlgorithm,
  openEnvelope,
  SEGMENT_SIZE,
  sealEnvelope,
} from "../src/index.ts";

// The test wrap "algorithm" of dapr/kit's own tests: the wrapped key is the file key itself.
const identityWrap = async (key: Uint8Array) => Buffer.from(key);
const identityUnwrap = async (wrapped: Uint8Array) => Buffer.from(wrapped);

async function* chunks(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

async function seal(data: Uint8Array, cipher?: string, chunk = 10_000): Promise<Buffer> {
  return collect(
    await sealEnvelope(chunks(data, chunk), {
      keyName: "mykey",
      algorithm: "A256KW",
      cipher,
      wrapKey: identityWrap,
    }),
  );
}

async function open(sealed: Uint8Array, keyName?: string, chunk = 9_999): Promise<Buffer> {
  return collect(await openEnvelope(chunks(sealed, chunk), { keyName, unwrapKey: identityUnwrap }));
}

/** Reads as much of the stream as it gives, then the error it ended with. */
async function drain(stream: AsyncIterable<Uint8Array>): Promise<{ out: Buffer; error: unknown }> {
  const parts: Buffer[] = [];
  try {
    for await (const c of stream) parts.push(Buffer.from(c));
    return { out: Buffer.concat(parts), error: undefined };
  } catch (error) {
    return { out: Buffer.concat(parts), error };
  }
}

function pattern(length: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = (i * 7 + 3) % 251;
  return b;
}

describe("Dapr's published sample ciphertexts (dapr/kit schemes/enc/v1/testdata)", () => {
  it("empty-message.enc opens to nothing, unwrapping with the manifest's key name and A256KW", async () => {
    const file = Buffer.from(
      'dapr.io/enc/v1\n{"k":"mykey","kw":1,"wfk":"rvjwqyMa8txW979ZL9wglb7f+UG1kW+/hDqvP3/ib+Q=","cph":1,"np":"gZ/UVI2JlQ=="}\nzB+rESjb3gR5guGfmxukQ//ApfW6a55WOxo6k0x89kE=\n',
    );
    const calls: [string, string][] = [];
    const plain = await collect(
      await openEnvelope(chunks(file, 1), {
        unwrapKey: async (wrapped, algorithm, keyName) => {
          calls.push([algorithm, keyName]);
          return Buffer.from(wrapped);
        },
      }),
    );
    expect(plain.length).toBe(0);
    expect(calls).toEqual([["A256KW", "mykey"]]);
  });

  // single-segment-no-key-name.enc: the header as text, then its 27 binary bytes.
  const noKeyName = Buffer.concat([
    Buffer.from(
      'dapr.io/enc/v1\n{"kw":1,"wfk":"1t1mDc87I8JUdPD2Kl6AKLpBV+HJy0av3yYR2/Q7Fx4=","cph":1,"np":"PYoop7beBg=="}\n4m5F2XCJ/V/OkTbzDsUyx+9WM+IqMF800WNHhuVJc0Y=\n',
    ),
    Buffer.from("e933e77068202a6760ac6d2ed6d9666e7646d580fad1d94c72b08c", "hex"),
  ]);

  it("single-segment-no-key-name.enc opens to 'hello world' when the key is named", async () => {
    expect((await open(noKeyName, "mykey", 5)).toString()).toBe("hello world");
  });

  it("single-segment-no-key-name.enc without a key name fails saying so", async () => {
    await expect(open(noKeyName)).rejects.toMatchObject({
      failure: "key-name-missing",
      message: expect.stringContaining("does not contain a key name"),
    });
  });
});

describe("vectors written from the spec", () => {
  const fileKey = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
  const noncePrefix = Buffer.from("01020304050607", "hex");
  const plaintext = pattern(SEGMENT_SIZE + 5);

  it("header: scheme line, compact manifest in Go's field order, HMAC-SHA-256 under HKDF(info=header)", async () => {
    const sealed = await collect(
      await sealWith(
        chunks(plaintext, 4096),
        { keyName: "k1", algorithm: "aes", cipher: "chacha20-poly1305", wrapKey: identityWrap },
        fileKey,
        noncePrefix,
      ),
    );
    const manifest = `{"k":"k1","kw":1,"wfk":"${fileKey.toString("base64")}","cph":2,"np":"AQIDBAUGBw=="}`;
    const macKey = Buffer.from(hkdfSync("sha256", fileKey, Buffer.alloc(0), "header", 32));
    const mac = createHmac("sha256", macKey)
      .update(`dapr.io/enc/v1\n${manifest}\n`)
      .digest("base64");
    const header = `dapr.io/enc/v1\n${manifest}\n${mac}\n`;
    expect(sealed.subarray(0, header.length).toString()).toBe(header);

    // Segments: HKDF(salt=nonce prefix, info=payload) key, nonce prefix||uint32be(i)||last.
    const payloadKey = Buffer.from(hkdfSync("sha256", fileKey, noncePrefix, "payload", 32));
    const segment = (i: number, last: boolean, data: Buffer): Buffer => {
      const nonce = Buffer.concat([noncePrefix, Buffer.from([0, 0, 0, i, last ? 1 : 0])]);
      const c = createCipheriv("chacha20-poly1305", payloadKey, nonce, { authTagLength: 16 });
      return Buffer.concat([c.update(data), c.final(), c.getAuthTag()]);
    };
    const expected = Buffer.concat([
      Buffer.from(header),
      segment(0, false, plaintext.subarray(0, SEGMENT_SIZE)),
      segment(1, true, plaintext.subarray(SEGMENT_SIZE)),
    ]);
    expect(sealed.equals(expected)).toBe(true);
    expect(sealed.length).toBe(header.length + plaintext.length + 2 * 16);
  });

  it("an input of exactly one segment is one segment flagged last; an empty one is the header alone", async () => {
    const one = await collect(
      await sealWith(
        chunks(pattern(SEGMENT_SIZE), 1000),
        { keyName: "k", algorithm: "A256KW", wrapKey: identityWrap },
        fileKey,
        noncePrefix,
      ),
    );
    const headerEnd = one.indexOf("\n", one.indexOf("\n", 15) + 1) + 1;
    expect(one.length - headerEnd).toBe(SEGMENT_SIZE + 16);
    const empty = await collect(
      await sealWith(
        chunks(Buffer.alloc(0), 1),
        { keyName: "k", algorithm: "A256KW", wrapKey: identityWrap },
        fileKey,
        noncePrefix,
      ),
    );
    expect(empty.length).toBe(headerEnd);
  });

  it("algorithm names: aliases resolve (AES -> 1, RSA -> 5), decryption key name and omission are recorded", async () => {
    const manifestOf = async (options: Record<string, unknown>) => {
      const sealed = await collect(
        await sealEnvelope(chunks(Buffer.from("x"), 1), {
          keyName: "enc",
          algorithm: "A256KW",
          wrapKey: identityWrap,
          ...options,
        }),
      );
      return JSON.parse(sealed.toString("latin1").split("\n")[1] as string) as Record<
        string,
        unknown
      >;
    };
    expect(await manifestOf({ algorithm: "rsa" })).toMatchObject({ k: "enc", kw: 5, cph: 1 });
    expect(await manifestOf({ algorithm: "RSA-OAEP-256", decryptionKeyName: "dec" })).toMatchObject(
      {
        k: "dec",
        kw: 5,
      },
    );
    const omitted = await manifestOf({ omitKeyName: true, decryptionKeyName: "dec" });
    expect(omitted.k).toBeUndefined();
    expect(Object.keys(omitted)).toEqual(["kw", "wfk", "cph", "np"]);
  });

  it("refuses an unknown algorithm or cipher by name, before wrapping anything", async () => {
    let wrapped = 0;
    const attempt = (options: { algorithm: string; cipher?: string }) =>
      sealEnvelope(chunks(Buffer.from("x"), 1), {
        keyName: "k",
        ...options,
        wrapKey: async (k) => {
          wrapped++;
          return Buffer.from(k);
        },
      });
    await expect(attempt({ algorithm: "A128CBC" })).rejects.toThrow(
      /key wrap algorithm A128CBC is not supported; supported: A256KW, A128CBC-NOPAD/,
    );
    await expect(attempt({ algorithm: "A256KW", cipher: "des" })).rejects.toThrow(
      /data encryption cipher des is not supported/,
    );
    expect(wrapped).toBe(0);
  });
});

describe("round trips", () => {
  const sizes = [
    0,
    1,
    11,
    SEGMENT_SIZE - 1,
    SEGMENT_SIZE,
    SEGMENT_SIZE + 1,
    2 * SEGMENT_SIZE,
    300 * 1024,
  ];
  for (const cipher of ["aes-gcm", "chacha20-poly1305"]) {
    for (const size of sizes) {
      it(`${cipher}, ${size} bytes`, async () => {
        const data = pattern(size);
        const sealed = await seal(data, cipher, 7777);
        expect(sealed.toString("latin1", 0, 15)).toBe(`${ENVELOPE_SCHEME}\n`);
        expect((await open(sealed, undefined, 1 + (size % 5000))).equals(data)).toBe(true);
      });
    }
  }

  it("streams: the first sealed segment comes out before the source is read to its end", async () => {
    let pulled = 0;
    const source = (async function* () {
      for (let i = 0; i < 64; i++) {
        pulled += 16 * 1024;
        yield pattern(16 * 1024);
      }
    })();
    const sealed = await sealEnvelope(source, {
      keyName: "k",
      algorithm: "A256KW",
      wrapKey: identityWrap,
    });
    await sealed.next(); // header
    const first = await sealed.next();
    expect((first.value as Buffer).length).toBe(SEGMENT_SIZE + 16);
    expect(pulled).toBeLessThanOrEqual(2 * SEGMENT_SIZE);
    await sealed.return(undefined);
  });
});

describe("tampering and truncation", () => {
  const data = pattern(3 * SEGMENT_SIZE - 10);
  const sealedP = seal(data);
  const headerLength = async () => {
    const s = await sealedP;
    let at = -1;
    for (let i = 0; i < 3; i++) at = s.indexOf(0x0a, at + 1);
    return at + 1;
  };

  it("an altered byte in segment 1 fails there, after only segment 0's plaintext came out", async () => {
    const sealed = Buffer.from(await sealedP);
    const at = (await headerLength()) + SEGMENT_SIZE + 16 + 100;
    sealed[at] = (sealed[at] as number) ^ 1;
    const { out, error } = await drain(
      await openEnvelope(chunks(sealed, 4096), { unwrapKey: identityUnwrap }),
    );
    expect(error).toBeInstanceOf(EnvelopeError);
    expect(error).toMatchObject({
      failure: "segment",
      message: expect.stringMatching(/segment 1/),
    });
    expect(out.equals(data.subarray(0, SEGMENT_SIZE))).toBe(true);
  });

  it("a stream cut at a segment boundary fails (the last-segment flag), as does one cut mid-segment", async () => {
    const sealed = await sealedP;
    const cutAtBoundary = sealed.subarray(0, (await headerLength()) + 2 * (SEGMENT_SIZE + 16));
    const a = await drain(
      await openEnvelope(chunks(cutAtBoundary, 5000), { unwrapKey: identityUnwrap }),
    );
    expect(a.error).toMatchObject({
      failure: "segment",
      message: expect.stringMatching(/segment 1/),
    });
    expect(a.out.length).toBe(SEGMENT_SIZE);
    const cutInside = sealed.subarray(0, sealed.length - 5);
    const b = await drain(
      await openEnvelope(chunks(cutInside, 5000), { unwrapKey: identityUnwrap }),
    );
    expect(b.error).toMatchObject({
      failure: "segment",
      message: expect.stringMatching(/segment 2/),
    });
    const cutToTag = sealed.subarray(0, (await headerLength()) + 2 * (SEGMENT_SIZE + 16) + 10);
    const c = await drain(
      await openEnvelope(chunks(cutToTag, 5000), { unwrapKey: identityUnwrap }),
    );
    expect(c.error).toMatchObject({
      failure: "truncated",
      message: expect.stringMatching(/segment 2/),
    });
  });

  it("bytes appended after the last segment fail it", async () => {
    const sealed = Buffer.concat([await sealedP, Buffer.from("x")]);
    const { error } = await drain(
      await openEnvelope(chunks(sealed, 5000), { unwrapKey: identityUnwrap }),
    );
    expect(error).toMatchObject({ failure: "segment" });
  });

  it("an altered manifest, a wrong key or a key that does not unwrap fail the header MAC before any output", async () => {
    const sealed = await sealedP;
    const altered = Buffer.from(
      sealed.toString("latin1").replace('"k":"mykey"', '"k":"mykez"'),
      "latin1",
    );
    await expect(open(altered)).rejects.toMatchObject({ failure: "signature" });
    const wrongKey = openEnvelope(chunks(sealed, 5000), {
      unwrapKey: async () => Buffer.alloc(32, 7),
    });
    await expect(wrongKey).rejects.toThrow(/failed to validate the document's signature/);
    const missing = openEnvelope(chunks(sealed, 5000), {
      unwrapKey: async () => {
        throw new Error("key not found");
      },
    });
    await expect(missing).rejects.toMatchObject({ failure: "signature" });
  });

  it("header problems are named: scheme, empty line, manifest, missing MAC, no newline within 64 KiB", async () => {
    const attempt = (text: string | Buffer) =>
      openEnvelope(chunks(Buffer.from(text), 100), { unwrapKey: identityUnwrap });
    await expect(attempt("foo")).rejects.toThrow(/invalid header: scheme name not found/);
    await expect(attempt("dapr.io/enc/v2\n{}\nx\n")).rejects.toThrow(/unsupported scheme/);
    await expect(attempt("dapr.io/enc/v1\n\n")).rejects.toThrow(/invalid format/);
    await expect(attempt("dapr.io/enc/v1\nnotjson\nAAAA\n")).rejects.toThrow(
      /invalid manifest \(not JSON\)/,
    );
    await expect(
      attempt('dapr.io/enc/v1\n{"kw":9,"wfk":"AAAA","cph":1,"np":"AQIDBAUGBw=="}\nAAAA\n'),
    ).rejects.toMatchObject({
      failure: "manifest",
      message: expect.stringMatching(/key wrap algorithm/),
    });
    await expect(
      attempt('dapr.io/enc/v1\n{"kw":1,"wfk":"AAAA","cph":1,"np":"AQID"}\nAAAA\n'),
    ).rejects.toThrow(/nonce prefix is not 7 bytes/);
    await expect(attempt('dapr.io/enc/v1\n{"kw":1}')).rejects.toThrow(/manifest not found/);
    await expect(
      attempt(Buffer.concat([Buffer.from("dapr.io/enc/v1\n"), Buffer.alloc(70_000, 0x41)])),
    ).rejects.toThrow(/manifest not found within the first 65536 bytes/);
  });

  it("the algorithm and key name reach unwrapKey as the manifest and the caller give them", async () => {
    const sealed = await collect(
      await sealEnvelope(chunks(Buffer.from("hi"), 1), {
        keyName: "rsa-key",
        algorithm: "RSA",
        wrapKey: identityWrap,
      }),
    );
    const seen: [KeyWrapAlgorithm, string][] = [];
    const plain = await collect(
      await openEnvelope(chunks(sealed, 3), {
        keyName: "other",
        unwrapKey: async (w, a, k) => {
          seen.push([a, k]);
          return Buffer.from(w);
        },
      }),
    );
    expect(plain.toString()).toBe("hi");
    expect(seen).toEqual([["RSA-OAEP-256", "other"]]);
  });
});
