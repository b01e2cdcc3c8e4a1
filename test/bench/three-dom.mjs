// A DOM for three.js's 3MFLoader in Node: @xmldom/xmldom's DOMParser, plus querySelector and
// querySelectorAll for the selectors that loader uses (tag names, optionally "ancestor descendant"),
// matched by local name in any namespace as CSS type selectors do in XML documents.
import { DOMParser } from '@xmldom/xmldom';

function select(root, selector) {
  const parts = selector.trim().split(/\s+/);
  let current = [root];
  for (const part of parts) {
    const next = [];
    const seen = new Set();
    for (const node of current) {
      const found = node.getElementsByTagNameNS('*', part);
      for (let i = 0; i < found.length; i++) {
        const el = found[i];
        if (!seen.has(el)) {
          seen.add(el);
          next.push(el);
        }
      }
    }
    current = next;
  }
  return current;
}

let installed = false;

export function installThreeDom() {
  if (installed) return;
  installed = true;
  globalThis.DOMParser = DOMParser;
  const doc = new DOMParser().parseFromString('<a><b/></a>', 'application/xml');
  for (const proto of [Object.getPrototypeOf(doc), Object.getPrototypeOf(doc.documentElement)]) {
    proto.querySelectorAll = function (selector) {
      return select(this, selector);
    };
    proto.querySelector = function (selector) {
      return select(this, selector)[0] ?? null;
    };
  }
}
