// The demo page: decode the chosen image in the browser, hash it with @phmatch/wasm, send only the hashes to the
// demo backend (standing in for the platform's server), show the decision. No token here: the backend holds it.
import { exifOrientation, HashKernel, hashImage, undoOrientation, wasmUrl } from "/pkg/dist/index.js";

const kernel = await HashKernel.load(await (await fetch(wasmUrl)).arrayBuffer());
const input = document.getElementById("file");
const result = document.getElementById("result");
let checks = 0;

input.addEventListener("change", async () => {
  const file = input.files?.[0];
  if (file === undefined) return;
  // As phmatch hash decodes: no colour management, and the stored pixels, not the EXIF-rotated view the browser
  // always gives (lists are made from stored pixels): undo the rotation exactly.
  const bitmap = await createImageBitmap(file, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0);
  const orientation = exifOrientation(new Uint8Array(await file.slice(0, 262144).arrayBuffer()));
  const pixels = undoOrientation(context.getImageData(0, 0, bitmap.width, bitmap.height), orientation);
  const started = performance.now();
  const hashes = hashImage(kernel, pixels, { algorithms: ["pdq", "phash", "dhash"], dihedral: true });
  const hashMs = performance.now() - started;
  const response = await fetch("/api/check", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(hashes),
  });
  const decision = await response.json();
  result.hidden = false;
  result.dataset.decision = decision.decision;
  result.innerHTML = "";
  const text =
    {
      match: "This image matches a list of known material: it cannot be uploaded.",
      no_match: "No match: the upload can go ahead.",
      low_quality: "The image has too little detail to check: the platform decides.",
      error: "The image could not be checked.",
    }[decision.decision] ?? "Unexpected answer.";
  const p = document.createElement("p");
  p.textContent = `${file.name}: ${text}`;
  const code = document.createElement("code");
  code.textContent = `PDQ ${hashes.hashes.pdq} (quality ${hashes.quality?.pdq}), hashed in ${hashMs.toFixed(1)} ms`;
  result.append(p, code);
  checks += 1;
  // For the automated test: what was computed and answered.
  window.phmatchDemo = {
    checks,
    file: file.name,
    width: pixels.width,
    height: pixels.height,
    orientation,
    hashes,
    decision,
    hashMs,
  };
});
document.body.dataset.ready = "true";
