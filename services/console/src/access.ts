/**
 * Who may use the console. Without a token it listens on loopback only, and a request naming any other host
 * is refused (a web page elsewhere cannot reach it through DNS rebinding). With SPEAKERS_CONSOLE_TOKEN the API
 * needs the session cookie the login page sets (HttpOnly, SameSite=Strict). Every state-changing request must
 * carry the `x-speakers-console` header, which a cross-site form or a simple cross-origin fetch cannot send,
 * and an Origin, when present, must be the console's own.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { SpeakersError } from "@speakers/events";
import type { FastifyReply, FastifyRequest } from "fastify";
import { isLoopbackHost } from "./config.js";

export const SESSION_COOKIE = "speakers_console_session";
export const CSRF_HEADER = "x-speakers-console";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
/** Reachable without a session: the login endpoint and what the page needs to show the login form. */
const OPEN_API = new Set(["/api/login", "/api/session"]);

export interface Access {
  readonly tokenRequired: boolean;
  /** The cookie value a correct token is traded for (an HMAC of the token, so the token itself never sits in a cookie). */
  sessionFor(token: string): string | undefined;
  signedIn(req: FastifyRequest): boolean;
  check(req: FastifyRequest, reply: FastifyReply): Promise<void>;
}

export function createAccess(options: { token: string | undefined; loopbackOnly: boolean }): Access {
  const session = options.token
    ? createHmac("sha256", options.token).update("speakers-console-session-v1").digest("base64url")
    : undefined;
  const same = (a: string, b: string) => {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return x.length === y.length && timingSafeEqual(x, y);
  };
  const signedIn = (req: FastifyRequest): boolean => {
    if (session === undefined) return true;
    const cookie = req.cookies[SESSION_COOKIE];
    return cookie !== undefined && same(cookie, session);
  };
  return {
    tokenRequired: session !== undefined,
    sessionFor: (token) =>
      session !== undefined && options.token !== undefined && same(token, options.token)
        ? session
        : undefined,
    signedIn,
    async check(req) {
      const host = req.headers.host ?? "";
      if (options.loopbackOnly && !isLoopbackHost(hostnameOf(host))) {
        throw new SpeakersError(
          "CONSOLE_REQUEST_FORBIDDEN",
          `The console answers only on loopback, not for host ${host}.`,
        );
      }
      if (!SAFE_METHODS.has(req.method)) {
        if (req.headers[CSRF_HEADER] !== "1") {
          throw new SpeakersError(
            "CONSOLE_REQUEST_FORBIDDEN",
            `A ${req.method} without the ${CSRF_HEADER} header was refused.`,
          );
        }
        const origin = req.headers.origin;
        if (origin !== undefined && origin !== `http://${host}`) {
          throw new SpeakersError("CONSOLE_REQUEST_FORBIDDEN", `A ${req.method} from ${origin} was refused.`);
        }
        const site = req.headers["sec-fetch-site"];
        if (site !== undefined && site !== "same-origin" && site !== "none") {
          throw new SpeakersError(
            "CONSOLE_REQUEST_FORBIDDEN",
            `A ${req.method} from another site was refused.`,
          );
        }
      }
      const path = req.url.split("?")[0] ?? "";
      if (path.startsWith("/api/") && !OPEN_API.has(path) && !signedIn(req)) {
        throw new SpeakersError("CONSOLE_LOGIN_REQUIRED");
      }
    },
  };
}

function hostnameOf(host: string): string {
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1);
  return host.split(":")[0] ?? "";
}
