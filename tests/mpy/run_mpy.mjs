// Run one Python file under MicroPython (WebAssembly port) on node, and exit non-zero if it failed.
//
// Why a wrapper: the package's own CLI exits 0 even when Python raises, so a failing test would pass.
// Usage: node run_mpy.mjs SCRIPT.py [DIR ...]
//   Each DIR (a Python package folder or a folder of data files) is copied into the wasm file system
//   under /lib/<basename>, and /lib is put on sys.path. The script must print the sentinel line
//   "MPY-TESTS-OK" as its last act; the runner fails unless it saw that line and Python raised nothing.
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";
import fs from "node:fs";
import path from "node:path";

const SENTINEL = "MPY-TESTS-OK";
const [script, ...dirs] = process.argv.slice(2);
if (!script) {
  console.error("usage: node run_mpy.mjs SCRIPT.py [DIR ...]");
  process.exit(2);
}

let out = "";
const mp = await loadMicroPython({
  heapsize: 8 * 1024 * 1024,
  stdout: (line) => { out += line + "\n"; process.stdout.write(line + "\n"); },
  stderr: (line) => { process.stderr.write(line + "\n"); },
});

function copyTree(src, dst) {
  mp.FS.mkdirTree(dst);
  for (const name of fs.readdirSync(src)) {
    const s = path.join(src, name);
    const d = dst + "/" + name;
    const st = fs.statSync(s);
    if (st.isDirectory()) {
      if (name !== "__pycache__" && name !== "node_modules") copyTree(s, d);
    } else {
      mp.FS.writeFile(d, fs.readFileSync(s));
    }
  }
}

mp.FS.mkdirTree("/lib");
for (const dir of dirs) copyTree(dir, "/lib/" + path.basename(path.resolve(dir)));
const code = fs.readFileSync(script, "utf8");
try {
  mp.runPython("import sys\nsys.path.insert(0, '/lib')\n");
  mp.runPython(code);
} catch (err) {
  // a Python exception arrives as a JS PythonError whose message holds the traceback
  console.error(String(err && err.message ? err.message : err));
  console.error("MicroPython raised: FAILED");
  process.exit(1);
}
if (!out.split("\n").includes(SENTINEL)) {
  console.error("MicroPython script ended without printing " + SENTINEL + ": FAILED");
  process.exit(1);
}
process.exit(0);
