import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { SpeakersError } from "@speakers/events";
import { SESSION_COOKIE } from "../access.js";
import type { RouteDeps } from "../app.js";

/** The login page's two calls, and what the page asks first: do I need to sign in? */
export const sessionRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { access }) => {
  app.get("/api/session", async (req) => ({
    tokenRequired: access.tokenRequired,
    signedIn: access.signedIn(req),
  }));

  app.post(
    "/api/login",
    {
      schema: {
        body: Type.Object(
          { token: Type.String({ minLength: 1, maxLength: 1000 }) },
          { additionalProperties: false },
        ),
      },
    },
    async (req, reply) => {
      const session = access.sessionFor(req.body.token);
      if (session === undefined) {
        throw new SpeakersError("CONSOLE_LOGIN_REQUIRED", "That is not the console's token.");
      }
      reply.setCookie(SESSION_COOKIE, session, {
        httpOnly: true,
        sameSite: "strict",
        path: "/",
        maxAge: 30 * 24 * 3600,
      });
      return { signedIn: true };
    },
  );

  app.post("/api/logout", async (_req, reply) => {
    reply.clearCookie(SESSION_COOKIE, { path: "/" });
    return { signedIn: false };
  });
};
