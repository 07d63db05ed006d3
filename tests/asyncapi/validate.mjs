// Validate an AsyncAPI document with the AsyncAPI initiative's own parser.
// Usage: node validate.mjs [FILE]   (default: stdin). Prints every diagnostic;
// exits 1 when any has severity error, 0 otherwise; then lists each message the
// parser found ("message<TAB>id") so a test can check what it saw.
import { readFileSync } from "node:fs";
import { Parser, DiagnosticSeverity } from "@asyncapi/parser";

const text = readFileSync(process.argv[2] ?? 0, "utf8");
const parser = new Parser();
const { document, diagnostics } = await parser.parse(text);
const names = { 0: "error", 1: "warning", 2: "information", 3: "hint" };
let errors = 0;
for (const d of diagnostics) {
  if (d.severity === DiagnosticSeverity.Error) errors += 1;
  const where = (d.path ?? []).join("/");
  console.log(`${names[d.severity] ?? d.severity}\t${d.code}\t/${where}\t${d.message}`);
}
if (errors > 0 || document === undefined) {
  console.log(`${errors} error(s): the document is not valid AsyncAPI`);
  process.exit(1);
}
for (const message of document.allMessages()) console.log(`message\t${message.id()}`);
console.log(`valid AsyncAPI ${document.version()}: ${document.allMessages().length} messages`);
