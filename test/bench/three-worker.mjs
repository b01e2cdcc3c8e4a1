// three.js's loaders in a worker thread of the benchmark: their own heap, so the garbage they make
// (several times the file size per parse) is never collected on our parser's time, nor ours on theirs.
import { readFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { installThreeDom } from './three-dom.mjs';

installThreeDom();
const { STLLoader } = await import('three/examples/jsm/loaders/STLLoader.js');
const { OBJLoader } = await import('three/examples/jsm/loaders/OBJLoader.js');
const { PLYLoader } = await import('three/examples/jsm/loaders/PLYLoader.js');
const { ThreeMFLoader } = await import('three/examples/jsm/loaders/3MFLoader.js');

let fns = [];
parentPort.on('message', (m) => {
  if (m.type === 'load') {
    // Prepared outside the timings: the bytes as an ArrayBuffer, OBJ decoded to a string.
    fns = m.files.map((file) => {
      const b = readFileSync(file);
      const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.length);
      if (m.kind === 'stl') return () => new STLLoader().parse(ab);
      if (m.kind === 'ply') return () => new PLYLoader().parse(ab);
      if (m.kind === '3mf') return () => new ThreeMFLoader().parse(ab);
      const text = b.toString('latin1');
      return () => new OBJLoader().parse(text);
    });
    parentPort.postMessage({ type: 'ready' });
  } else if (m.type === 'run') {
    const t = performance.now();
    for (const fn of fns) {
      try {
        fn();
      } catch {}
    }
    parentPort.postMessage({ type: 'done', ms: performance.now() - t });
  }
});
parentPort.postMessage({ type: 'started' });
