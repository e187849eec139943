export { startBroker, BROKER_PRODUCT, BROKER_VERSION } from './server.js';
export type { BrokerOptions, BrokerStats, EmbeddedBroker, QueueStats } from './server.js';
export { runBrokerCommand } from './command.js';
export { startBrokerInWorker } from './worker.js';
export type { WorkerBroker } from './worker.js';
