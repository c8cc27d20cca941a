// Google's Cloud Storage emulator (from firebase-tools) alone, on 127.0.0.1 at the port given: the GCS JSON API that
// Google's client libraries speak. Started without the firebase CLI, which demands Java 21 for every emulator; the
// storage rules runtime (Java, downloaded) is skipped too: it judges Firebase-SDK requests only, while the JSON API is
// served as an admin. Objects live in memory and in $TMPDIR/firebase/storage, so each instance gets its own TMPDIR.
//
// One gap of the emulator is filled here: it finalizes a resumable upload on its first PUT, where GCS takes chunks
// until the last one (its Content-Range end reaching the total) and answers each earlier chunk with 308 and the range
// it holds. Earlier chunks are appended here and answered that way; the last goes to the emulator, which finalizes.
const http = require("http");
const { StorageEmulator } = require("firebase-tools/lib/emulator/storage");
const { EmulatorRegistry } = require("firebase-tools/lib/emulator/registry");
const { createApp } = require("firebase-tools/lib/emulator/storage/server");

const port = Number(process.argv[2] || 9199);
const emulator = new StorageEmulator({ host: "127.0.0.1", port, projectId: "molesignal-test", auto_download: false });

function earlierChunk(req) {
  if (req.method !== "PUT" || !req.url.startsWith("/upload/storage/v1/b/")) return null;
  const id = new URL(req.url, "http://x").searchParams.get("upload_id");
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(req.headers["content-range"] || "");
  if (!id || !m || (m[3] !== "*" && Number(m[2]) + 1 >= Number(m[3]))) return null;
  return { id, end: Number(m[2]) };
}

function appendChunk(req, res, chunk) {
  const parts = [];
  req.on("data", (d) => parts.push(d));
  req.on("end", () => {
    try {
      emulator.uploadService.continueResumableUpload(chunk.id, Buffer.concat(parts));
      res.writeHead(308, { Range: `bytes=0-${chunk.end}`, "Content-Length": 0 }).end();
    } catch (e) {
      res.writeHead(404, { "Content-Length": 0 }).end();
    }
  });
}

// The emulator's own start, with the chunk handler in front of its app on the same port.
emulator.start = async () => {
  const app = await createApp(emulator.args.projectId, emulator);
  emulator._app = app;
  const server = http.createServer((req, res) => {
    const chunk = earlierChunk(req);
    if (chunk) appendChunk(req, res, chunk);
    else app(req, res);
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  emulator.destroyServer = () => new Promise((resolve) => server.close(resolve));
};

EmulatorRegistry.start(emulator).then(
  () => console.log(`gcs emulator listening on 127.0.0.1:${port}`),
  (e) => { console.error(e); process.exit(1); });
