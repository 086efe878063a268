import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { RouteDeps } from "../app.js";

/** System and Calibration pages. */
export const statusRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { system, calibration }) => {
  app.get("/api/system", async () => system.snapshot());
  app.get("/api/calibration", async () => calibration.view());
  app.post("/api/calibration/recalibrate", async () => calibration.recalibrate());
};
