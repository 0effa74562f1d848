/**
 * PII scrubbing for the conversation API (`scrubPii` on an input or on the request): each match
 * is replaced by the placeholder Dapr's default scrubber writes, so a scrubbed text reads the same
 * on outrig and on daprd. The patterns are ours; the entities and placeholders are Dapr's.
 */

interface Entity {
  placeholder: string;
  pattern: RegExp;
  /** A second check on a match (e.g. a card number's Luhn digit) before it is replaced. */
  accept?: (match: string) => boolean;
}

function luhn(match: string): boolean {
  const digits = match.replace(/\D/g, "");
  if (digits.length < 13 || digits.length > 19) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

function validIpv4(match: string): boolean {
  return match.split(".").every((part) => Number(part) <= 255);
}

/** In the order they are tried: longer, more specific entities first, so a card is not a phone. */
const ENTITIES: readonly Entity[] = [
  {
    placeholder: "<EMAIL_ADDRESS>",
    pattern: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g,
  },
  {
    placeholder: "<IBAN>",
    pattern: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/g,
  },
  {
    placeholder: "<CREDIT_CARD>",
    pattern: /\b\d(?:[ -]?\d){12,18}\b/g,
    accept: luhn,
  },
  { placeholder: "<US_SSN>", pattern: /(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)/g },
  {
    placeholder: "<MAC_ADDRESS>",
    pattern: /\b[0-9A-Fa-f]{2}(?:([:-])[0-9A-Fa-f]{2})(?:\1[0-9A-Fa-f]{2}){4}\b/g,
  },
  {
    placeholder: "<IP>",
    pattern: /\b(?:\d{1,3}\.){3}\d{1,3}\b/g,
    accept: validIpv4,
  },
  {
    placeholder: "<IP>",
    pattern: /(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![\w:])/g,
  },
  {
    placeholder: "<PHONE_NUMBER>",
    pattern: /(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\) ?|\d{2,4}[ .-]?)\d{3}[ .-]?\d{4}\b/g,
  },
  {
    placeholder: "<PHONE_NUMBER>",
    pattern: /(?<![\w+])\+\d{10,14}\b/g,
  },
];

/** `text` with every email, phone number, card number, SSN, IBAN, MAC and IP address replaced. */
export function scrubPii(text: string): string {
  let out = text;
  for (const { placeholder, pattern, accept } of ENTITIES) {
    out = out.replace(pattern, (match) => (accept && !accept(match) ? match : placeholder));
  }
  return out;
}
