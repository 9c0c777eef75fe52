/** Writes the generated files (see generated-files.ts). */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { generatedFiles } from "./generated-files";

for (const [file, content] of Object.entries(generatedFiles())) {
  writeFileSync(path.join(__dirname, "..", file), content);
  console.log(`wrote ${file}`);
}
