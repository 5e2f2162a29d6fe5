// The JavaScript client's size as a page downloads it: the module as published, gzipped, and minified with terser
// (compress and mangle, as an ES module) then gzipped. gzip is zlib's at level 9, what a server's static compression
// typically uses for a file served for a year.
//
//   node client-size.mjs            prints one JSON line of byte counts
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { minify } from 'terser';

const file = new URL('../../clients/js/rocket-client.js', import.meta.url);
const source = readFileSync(file, 'utf8');
const { code } = await minify(source, { module: true, compress: { passes: 2 }, mangle: true, format: { comments: false } });
const gzip = (text) => gzipSync(Buffer.from(text, 'utf8'), { level: 9 }).length;
console.log(JSON.stringify({
  file: 'clients/js/rocket-client.js',
  bytes: Buffer.byteLength(source),
  gzipped: gzip(source),
  minified: Buffer.byteLength(code),
  minifiedGzipped: gzip(code),
  terser: JSON.parse(readFileSync(new URL('./node_modules/terser/package.json', import.meta.url), 'utf8')).version,
  node: process.version,
}));
