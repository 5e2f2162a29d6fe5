// Type-checks client-types.ts, an app's use of the JavaScript client, against the package's hand-written declarations
// (clients/js/rocket-client.d.ts, found through package.json `exports` as an app would): strict, no DOM library (Node
// apps compile without it), NodeNext modules. Prints one JSON line; exits 0 only without a diagnostic.
import ts from 'typescript';

const file = new URL('./client-types.ts', import.meta.url).pathname;
const program = ts.createProgram([file], {
  strict: true,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  lib: ['lib.es2022.d.ts'],
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  types: [],
  skipLibCheck: false,
});
const diagnostics = ts.getPreEmitDiagnostics(program);
const messages = diagnostics.map((d) => {
  const where = d.file ? `${d.file.fileName.split('/').slice(-2).join('/')}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : '';
  return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
});
const declarations = program.getSourceFiles().map((f) => f.fileName).filter((name) => name.endsWith('rocket-client.d.ts'));
console.log(JSON.stringify({ ok: diagnostics.length === 0 && declarations.length === 1, typescript: ts.version, declarations: declarations.length, diagnostics: messages.length }));
for (const message of messages) console.error(message);
process.exit(diagnostics.length === 0 && declarations.length === 1 ? 0 : 1);
