// Bundles the page (Preact + TypeScript) and copies its static files into dist/public; no CDN, works offline.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "dist", "public");
mkdirSync(out, { recursive: true });
await build({
  entryPoints: {
    app: join(root, "web", "src", "main.tsx"),
    "capture-worklet": join(root, "web", "src", "capture-worklet.ts"),
  },
  outdir: out,
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: true,
  jsx: "automatic",
  jsxImportSource: "preact",
  logLevel: "warning",
});
for (const file of ["index.html", "styles.css"]) copyFileSync(join(root, "web", file), join(out, file));
