import { fileURLToPath } from "node:url";
import { findDrift, writeContract } from "./export.js";

// dist/export-main.js sits in packages/events/dist.
const root = fileURLToPath(new URL("../../../", import.meta.url));

if (process.argv.includes("--check")) {
  const drift = findDrift(root);
  if (drift.length > 0) {
    for (const { path, reason } of drift) console.error(`${reason}: ${path}`);
    console.error(
      "The exported contract drifted from packages/events/src: run `pnpm schemas` and commit the result.",
    );
    process.exit(1);
  }
  console.log("Exported contract is in sync with packages/events/src.");
} else {
  const written = writeContract(root);
  console.log(`Wrote ${written.length} files.`);
}
