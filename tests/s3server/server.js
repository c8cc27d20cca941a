// Starts an S3-compatible server on 127.0.0.1 for the tests: node server.js PORT DIR BUCKET
// Prints "ready PORT" once listening. Stops on SIGTERM/SIGINT.
const S3rver = require('@20minutes/s3rver');
const [port, directory, bucket] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: Number(port),
  directory,
  silent: true,
  allowMismatchedSignatures: true,
  configureBuckets: [{ name: bucket }],
});
server.run((err, { port: bound } = {}) => {
  if (err) { console.error(err); process.exit(1); }
  console.log(`ready ${bound}`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
