import type { SubscriptionRule } from "../resources/model.ts";

export interface CompiledRule {
  match: string;
  /** The HTTP path: the route with a leading slash. */
  path: string;
  /** The route as declared, which a gRPC app gets as TopicEventRequest.path. */
  route: string;
  test: (event: Record<string, unknown>) => boolean;
}

/**
 * Compiles a subscription's rules. Match expressions are CEL, parsed and evaluated by a CEL
 * library (no JavaScript evaluation); an empty match always matches. An expression that does not
 * parse throws, naming it. The CEL library is loaded only when some rule has a match.
 */
export async function compileRules(rules: readonly SubscriptionRule[]): Promise<CompiledRule[]> {
  const needsCel = rules.some((r) => r.match.trim() !== "");
  const { parse } = needsCel ? await import("@marcbachmann/cel-js") : { parse: undefined };
  return rules.map((rule) => {
    const path = rule.path.startsWith("/") ? rule.path : `/${rule.path}`;
    const match = rule.match.trim();
    if (match === "") return { match, path, route: rule.path, test: () => true };
    let program: (context: Record<string, unknown>) => unknown;
    try {
      program = (parse as NonNullable<typeof parse>)(match);
    } catch (error) {
      throw new Error(
        `invalid match expression ${JSON.stringify(match)}: ${(error as Error).message}`,
      );
    }
    return {
      match,
      path,
      route: rule.path,
      test(event) {
        try {
          return program({ event }) === true;
        } catch {
          // A missing field or a type mismatch means the rule does not match, as in daprd.
          return false;
        }
      },
    };
  });
}

/** The first matching rule, or `undefined` when none matches. */
export function matchRule(
  rules: readonly CompiledRule[],
  event: Record<string, unknown>,
): CompiledRule | undefined {
  return rules.find((rule) => rule.test(event));
}

/** The path of the first matching rule, or `undefined` when none matches. */
export function routeEvent(
  rules: readonly CompiledRule[],
  event: Record<string, unknown>,
): string | undefined {
  return matchRule(rules, event)?.path;
}
