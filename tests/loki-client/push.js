// Sends log lines through winston-loki (a Loki push client) and exits 0 once every batch is acknowledged.
// usage: node push.js <host> <user:password> <proto|json> <count> <labels JSON>
const winston = require('winston')
const LokiTransport = require('winston-loki')

const [host, basicAuth, mode, count, labelsJson] = process.argv.slice(2)
let failed = null
const transport = new LokiTransport({
  host,
  basicAuth,
  json: mode === 'json',
  labels: JSON.parse(labelsJson),
  interval: 3600, // sent by close() below, not by the timer
  timeout: 30000,
  clearOnError: true,
  gracefulShutdown: false, // no exit hook: close() below sends the batch
  onConnectionError: err => { failed = err }
})
const logger = winston.createLogger({ transports: [transport] })

;(async () => {
  const n = Number(count)
  for (let i = 0; i < n; i++) {
    logger.info(`order ${i} shipped`, { labels: { parity: i % 2 ? 'odd' : 'even' } })
  }
  await transport.close() // sends what is batched; a failure reaches onConnectionError
  if (failed) {
    console.error('push failed: ' + (failed.message || failed))
    process.exit(1)
  }
  console.log(`pushed ${n} (${transport.batcher.contentType})`)
  process.exit(0)
})()
