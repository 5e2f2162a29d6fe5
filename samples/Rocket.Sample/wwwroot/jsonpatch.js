// A small RFC 6902 JSON Patch applier for the sample page (no build step, no dependencies).
// It applies a whole patch to a copy and returns it, so a failing patch leaves the caller's document alone.
export function applyPatch(document, patch) {
  let root = structuredClone(document);
  for (const [index, op] of patch.entries()) {
    root = applyOperation(root, op, index);
  }
  return root;
}

function parsePointer(pointer) {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`invalid JSON Pointer '${pointer}'`);
  return pointer.slice(1).split('/').map((token) => {
    if (/~[^01]|~$/.test(token)) throw new Error(`invalid escape in '${pointer}'`);
    return token.replace(/~1/g, '/').replace(/~0/g, '~');
  });
}

function arrayIndex(array, token, allowEnd) {
  if (allowEnd && token === '-') return array.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new Error(`'${token}' is not an array index`);
  const index = Number(token);
  if (index > array.length || (!allowEnd && index === array.length)) throw new Error(`index ${index} out of range`);
  return index;
}

function resolveParent(root, tokens) {
  let node = root;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[arrayIndex(node, token, false)];
    else if (node !== null && typeof node === 'object' && Object.hasOwn(node, token)) node = node[token];
    else throw new Error('path not found');
  }
  if (node === null || typeof node !== 'object') throw new Error('path not found');
  return node;
}

function get(root, tokens) {
  if (tokens.length === 0) return root;
  const parent = resolveParent(root, tokens);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) return parent[arrayIndex(parent, last, false)];
  if (!Object.hasOwn(parent, last)) throw new Error('path not found');
  return parent[last];
}

function add(root, tokens, value) {
  if (tokens.length === 0) return value;
  const parent = resolveParent(root, tokens);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, true), 0, value);
  else setMember(parent, last, value);
  return root;
}

function replace(root, tokens, value) {
  if (tokens.length === 0) return value;
  const parent = resolveParent(root, tokens);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) parent[arrayIndex(parent, last, false)] = value;
  else if (Object.hasOwn(parent, last)) setMember(parent, last, value);
  else throw new Error('path not found');
  return root;
}

// defineProperty, not assignment: a member named "__proto__" must stay a member, as JSON.parse makes it.
function setMember(object, name, value) {
  Object.defineProperty(object, name, { value, writable: true, enumerable: true, configurable: true });
}

function remove(root, tokens) {
  if (tokens.length === 0) throw new Error('cannot remove the whole document');
  const parent = resolveParent(root, tokens);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, last, false), 1)[0];
  if (!Object.hasOwn(parent, last)) throw new Error('path not found');
  const value = parent[last];
  delete parent[last];
  return value;
}

function equal(a, b) {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && equal(a[k], b[k]));
}

function applyOperation(root, op, index) {
  if (typeof op?.path !== 'string') throw new Error(`operation ${index}: no 'path'`);
  if (['add', 'replace', 'test'].includes(op.op) && !('value' in op)) throw new Error(`operation ${index}: no 'value'`);
  if (['move', 'copy'].includes(op.op) && typeof op.from !== 'string') throw new Error(`operation ${index}: no 'from'`);
  const path = parsePointer(op.path);
  switch (op.op) {
    case 'add': return add(root, path, structuredClone(op.value));
    case 'remove': remove(root, path); return root;
    case 'replace': return replace(root, path, structuredClone(op.value));
    case 'move': {
      const from = parsePointer(op.from);
      if (op.from === op.path) { get(root, from); return root; }
      if (op.path.startsWith(op.from + '/')) throw new Error(`operation ${index}: cannot move into own child`);
      return add(root, path, remove(root, from));
    }
    case 'copy': return add(root, path, structuredClone(get(root, parsePointer(op.from))));
    case 'test': if (!equal(get(root, path), op.value)) throw new Error(`operation ${index}: test failed`); return root;
    default: throw new Error(`operation ${index}: unknown op '${op.op}'`);
  }
}
