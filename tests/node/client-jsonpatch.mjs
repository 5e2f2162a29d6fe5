// Runs the JavaScript client's own JSON Patch applier (clients/js, the package @rocket-live/client) through the public JSON
// Patch conformance suite: the npm package json-patch-test-suite always, and the newer revision in shared/ when its
// folder is given (only CI has shared/ beside the repository).
//
//   node client-jsonpatch.mjs [path to shared/conformance/json-patch-tests]
//
// A case with "error" must throw and leave the document unchanged; with "expected" must produce it; with neither must
// succeed. Disabled cases run too, except the one per revision whose patch has two "op" members: JSON.parse keeps the
// last one, so no applier of parsed JavaScript objects can see them (the client only ever parses patches Rocket's server
// wrote, which never repeat a member). Prints one JSON summary line, naming the sources it ran; exits 0 only when every
// other case passed.
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { applyPatch } from '@rocket-live/client';

const shared = process.argv[2];
const files = [
  ['npm', new URL('./node_modules/json-patch-test-suite/tests.json', import.meta.url)],
  ['npm', new URL('./node_modules/json-patch-test-suite/spec_tests.json', import.meta.url)],
];
if (shared !== undefined) {
  files.push(['shared', `${shared}/tests.json`], ['shared', `${shared}/spec_tests.json`]);
}

const failures = [];
let passed = 0;
let skipped = 0;
for (const [source, file] of files) {
  const cases = JSON.parse(readFileSync(file, 'utf8'));
  cases.forEach((testCase, index) => {
    if (testCase.comment === 'duplicate ops') {
      skipped++;
      return;
    }

    const name = `${source} ${String(file).split('/').pop()} #${index} ${testCase.comment ?? ''}`;
    const before = JSON.stringify(testCase.doc);
    let result;
    let error;
    try {
      result = applyPatch(testCase.doc, testCase.patch);
    } catch (e) {
      error = e;
    }

    const unchanged = JSON.stringify(testCase.doc) === before;
    let ok;
    if ('error' in testCase) ok = error !== undefined && unchanged;
    else if ('expected' in testCase) ok = error === undefined && isDeepStrictEqual(result, testCase.expected);
    else ok = error === undefined;
    if (ok) passed++;
    else failures.push(`${name}: ${error ? `threw ${error.message}` : `got ${JSON.stringify(result)}`}`);
  });
}

const sources = [...new Set(files.map(([source]) => source))];
console.log(JSON.stringify({ ok: failures.length === 0, sources, passed, failed: failures.length, skipped }));
for (const failure of failures) console.error(failure);
process.exit(failures.length === 0 ? 0 : 1);
