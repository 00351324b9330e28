// build.mjs: bundles the single-page app in src/ into dist/ with Node's
// standard library only (no npm packages): strips comments and blank lines,
// content-hashes app.js and style.css into their names, rewrites index.html to
// point at them and stamps the version.
//
//   node build.mjs [--version V] [--src DIR] [--out DIR]
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

function arg(name, def) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

const version = arg("--version", "dev");
const src = arg("--src", "src");
const out = arg("--out", "dist");

// Conservative minification: drop whole-line comments, trailing spaces and
// blank lines. Never touches code inside a line, so it cannot break strings.
function minify(text, lineComment) {
  let inBlock = false;
  return text
    .split("\n")
    .map((l) => l.replace(/\s+$/, ""))
    .filter((l) => {
      const t = l.trim();
      if (inBlock) {
        if (t.endsWith("*/")) inBlock = false;
        return false;
      }
      if (t.startsWith("/*")) {
        inBlock = !t.endsWith("*/");
        return false;
      }
      if (lineComment && t.startsWith("//")) return false;
      return t !== "";
    })
    .map((l) => l.replace(/^\s+/, ""))
    .join("\n") + "\n";
}

function hashed(name, body) {
  const h = createHash("sha256").update(body).digest("hex").slice(0, 12);
  const dot = name.lastIndexOf(".");
  return `${name.slice(0, dot)}.${h}${name.slice(dot)}`;
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const assets = {
  "app.js": minify(readFileSync(join(src, "app.js"), "utf8"), true),
  "style.css": minify(readFileSync(join(src, "style.css"), "utf8"), false),
};
let html = readFileSync(join(src, "index.html"), "utf8");
const manifest = { version, files: {} };
for (const [name, body] of Object.entries(assets)) {
  const file = hashed(name, body);
  writeFileSync(join(out, file), body);
  manifest.files[name] = file;
  const ref = new RegExp(`(src|href)="${name.replace(".", "\\.")}"`, "g");
  if (!ref.test(html)) throw new Error(`index.html does not reference ${name}`);
  html = html.replace(ref, `$1="/${file}"`);
}
const escaped = version.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
html = html.replace("__VERSION__", escaped);
writeFileSync(join(out, "index.html"), html);
writeFileSync(join(out, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
console.log(`built ${out}: ${Object.values(manifest.files).join(", ")} (version ${version})`);
