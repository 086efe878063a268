import { SpeakersError } from "@speakers/events";

/** Server URLs with any `user:pass@` taken out, and the credentials they carried. */
export interface SplitServers {
  /** The URLs without credentials: safe to log, and what nats.js is given. */
  servers: string[];
  user?: string;
  pass?: string;
}

// scheme (optional), authority up to the first '/', '?' or '#', then the rest verbatim.
const URL_PARTS = /^([a-z][a-z0-9+.-]*:\/\/)?([^/?#]*)(.*)$/i;

/**
 * nats.js ignores `user:pass@` inside a server URL, while deploy puts every service's user there (NATS_URL,
 * the form nats-py and the Go client read natively). This takes them out, percent-decoded, so they can be
 * passed as `user`/`pass`. A comma-separated string is several servers, as in the other clients. Servers that
 * name different credentials are refused: one connection logs in as one user, whichever server it reaches.
 */
export function splitServerCredentials(servers: string | readonly string[]): SplitServers {
  const list = (typeof servers === "string" ? servers.split(",") : [...servers])
    .map((s) => s.trim())
    .filter((s) => s !== "");
  let found: { user: string; pass: string; from: string } | undefined;
  const clean = list.map((server) => {
    const [, scheme = "", authority = "", rest = ""] = URL_PARTS.exec(server) ?? [];
    const at = authority.lastIndexOf("@");
    if (at < 0) return server;
    const host = authority.slice(at + 1);
    const credentials = parseUserinfo(authority.slice(0, at), `${scheme}${host}${rest}`);
    if (found && (found.user !== credentials.user || found.pass !== credentials.pass)) {
      throw new SpeakersError(
        "INVALID_REQUEST",
        `NATS servers ${found.from} and ${scheme}${host}${rest} name different credentials`,
        { hint: "Give every server in NATS_URL the same user:password@ (or only the first one)." },
      );
    }
    found = { ...credentials, from: `${scheme}${host}${rest}` };
    return `${scheme}${host}${rest}`;
  });
  return found === undefined ? { servers: clean } : { servers: clean, user: found.user, pass: found.pass };
}

function parseUserinfo(userinfo: string, redacted: string): { user: string; pass: string } {
  const colon = userinfo.indexOf(":");
  const rawUser = colon < 0 ? userinfo : userinfo.slice(0, colon);
  const rawPass = colon < 0 ? "" : userinfo.slice(colon + 1);
  try {
    return { user: decodeURIComponent(rawUser), pass: decodeURIComponent(rawPass) };
  } catch (err) {
    // the message names the server without its credentials: this text ends up in logs
    throw new SpeakersError(
      "INVALID_REQUEST",
      `the credentials in NATS server ${redacted} are not valid URL encoding`,
      {
        hint: "Percent-encode reserved characters of the user and password in NATS_URL (e.g. %40 for @).",
        cause: err,
      },
    );
  }
}

/**
 * The inbox prefix a restricted user must use: deploy/nats/auth.conf lets edge clients subscribe only to
 * `_INBOX.<user>.>`, so the default `_INBOX.>` replies would be refused. Trusted users may use `_INBOX.>`
 * and are served by the same prefix, so it is derived for every user.
 */
export function inboxPrefixFor(user: string): string {
  return `_INBOX.${user}`;
}
